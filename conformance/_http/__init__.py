"""The one HTTP session of the suite.

Scenarios, fuzzing, the preflight and the cleanup all talk to the target through a
:class:`Session`, so there is one place for authentication, the ``Zuora-Track-Id``, limits against
a hostile server (a wall-clock deadline per request, a cap on bytes read, a cap on bytes after
decompression), throttling (client-side pacing, ``429``/``Retry-After``, ``RateLimit-*``),
redaction and the transcript of every exchange.

httpx does the HTTP; everything about limits is done here. Bodies are read raw (``iter_raw``) and
decoded here, because httpx would decompress without a bound. Every socket operation of a request
is bounded by the request's deadline (see :class:`_DeadlineBackend`), so neither a server that
trickles one byte a second nor one that trickles its headers can hold a worker past
``timeout_s``.

One concept per module, as httpx splits its client: ``_models`` (settings, credentials, the
request and response), ``_transport`` (the deadline on every socket operation), ``_pacing``
(the run's request budget), ``_bodies`` (reading within the caps), ``_retry`` (transient answers
and small helpers) and ``_session`` (the one :class:`Session`).
"""

from __future__ import annotations

from ._models import Auth, BearerToken, ClientCredentials, HttpSettings, Request, Response, track_id
from ._pacing import Pacer
from ._retry import TRANSIENT_STATUSES, is_transient, safe_to_retry, transient_answer
from ._session import Session
from ._transport import new_transport

__all__ = [
    "TRANSIENT_STATUSES",
    "Auth",
    "BearerToken",
    "ClientCredentials",
    "HttpSettings",
    "Pacer",
    "Request",
    "Response",
    "Session",
    "is_transient",
    "new_transport",
    "safe_to_retry",
    "track_id",
    "transient_answer",
]
