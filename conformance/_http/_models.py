"""Settings, credentials and the request/response pair the session speaks in."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._exceptions import TransportError
from .._redact import DEFAULT_BODY_LIMIT
from .._results import Exchange
from ._constants import MAX_TRACK_ID, USER_AGENT

# -- settings and inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class HttpSettings:
    """Everything that shapes how the session talks to the target."""

    base_url: str
    timeout_s: float = 30.0
    max_body_bytes: int = 10 * 2**20
    max_decompressed_bytes: int = 10 * 2**20
    verify_tls: bool = True
    #: Sent as ``Zuora-Version`` unless a request overrides or omits it; ``None``: never sent.
    zuora_version: str | None = "2024-05-20"
    #: Client-side pacing budget (requests a minute, shared by every thread); ``None``: no pacing.
    rate_limit_per_min: float | None = None
    max_retries_429: int = 3
    max_retry_wait_s: float = 60.0
    #: Retries of a transient answer (502/503/504, 500 category 61) to a request safe to repeat.
    max_retries_transient: int = 3
    run_id: str = "jrc"
    follow_redirects: bool = False
    max_redirects: int = 5
    #: Request and response bodies in evidence are cut at this many bytes.
    evidence_body_bytes: int = DEFAULT_BODY_LIMIT
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class BearerToken:
    """A static bearer token."""

    token: str = field(repr=False)


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth client credentials, exchanged for an access token at ``token_url``.

    ``token_url`` defaults to ``base_url + "/oauth/token"``.
    """

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str | None = None


Auth = BearerToken | ClientCredentials


@dataclass
class Request:
    """One request, relative to the session's base URL."""

    method: str
    #: Relative to ``base_url`` (``/v1/journal-runs``), or an absolute ``http(s)://`` URL.
    path: str
    params: Mapping[str, Any] | None = None
    #: Extra headers; a value of ``None`` omits a header the session would otherwise send.
    headers: Mapping[str, str | None] | None = None
    #: A JSON body (``None``: none; use ``content=b"null"`` for a literal JSON null).
    json: Any = None
    #: A raw body, sent as is (malformed bodies, wrong content types).
    content: bytes | None = None
    #: Compress the body and send ``Content-Encoding: gzip``.
    gzip_body: bool = False
    #: ``False``: send no ``Authorization`` at all.
    auth: bool = True
    #: Overrides the session's ``timeout_s`` for this request.
    timeout_s: float | None = None


@dataclass
class Response:
    """A response whose body was read in full, within the caps, and decompressed."""

    method: str
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes
    elapsed_ms: float
    exchange: Exchange
    exchange_index: int | None = None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; a readable :class:`TransportError` if it is not JSON."""
        try:
            return json.loads(self.content)
        except ValueError as exc:
            message = f"{self.method} {self.exchange.url}: body is not JSON: {exc}"
            raise TransportError(message) from None

    def json_or_none(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            return None


_TRACK_UNSAFE = re.compile(r"[^\x21-\x7e]|[:;\"']")


def track_id(run_id: str, track: str | None = None) -> str:
    """The ``Zuora-Track-Id`` for ``track``: at most 64 printable US-ASCII characters, none of
    ``: ; " '`` (replaced by ``-``). Longer ids keep their start and end in a short hash, so two
    long tracks that differ only at the end still get different ids."""
    raw = f"{run_id}.{track}" if track else run_id
    clean = _TRACK_UNSAFE.sub("-", raw)
    if len(clean) <= MAX_TRACK_ID:
        return clean
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    return f"{clean[: MAX_TRACK_ID - len(digest) - 1]}~{digest}"
