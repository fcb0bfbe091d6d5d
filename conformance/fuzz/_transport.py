"""schemathesis's requests, sent through the suite's one HTTP session.

schemathesis builds each request (its ``requests`` transport serialises the case: URL, query,
headers, body) and hands it to ``schema.transport.send``. The suite's transport sends it through
a :class:`~conformance._http.Session` instead of ``requests``: the same caps on the body read and
on what it decompresses to, the same deadline on every socket operation, the run's pacing, the
same redaction of the evidence, and the session's credentials (a client-credentials token is
fetched, and fetched again on a 401, there). The answer goes back to schemathesis as its own
``Response``, so its checks, hooks and recorder see what they always see.

What schemathesis sends outside ``schema.transport`` (its two capability probes) goes through
:func:`suite_probes`, which sends the one probe the session can send through the session too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import requests
from schemathesis.core.transport import Response as SchemathesisResponse
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from .._exceptions import TargetUnavailable, TransportError
from .._http import Request, Response, Session

#: What the recorded ``Authorization`` of a request the session authenticated says: the token
#: itself never reaches schemathesis, and stays the same across a token refresh, so the rules
#: can tell the stage's own requests from schemathesis's auth probes (no or another token).
OWN_CREDENTIALS: Final = "Bearer [the fuzz stage's credentials]"

#: Headers of the serialised case the session sets itself: what it can decode, the body's length.
_SESSION_HEADERS = frozenset({"accept-encoding", "content-length", "connection"})


class SuiteTransport(RequestsTransport):
    """schemathesis's ``requests`` transport with the sending done by ``session``."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._copy_serializers_from(REQUESTS_TRANSPORT)
        self.session = session

    def send(self, case: Any, *, session: Any = None, **kwargs: Any) -> SchemathesisResponse:
        kwargs.pop("max_redirects", None)  # the session does not follow redirects
        data = self._build_request_data(case, kwargs)
        prepared = requests.Request(
            method=data["method"],
            url=data["url"],
            headers=data.get("headers"),
            params=data.get("params"),
            data=data.get("data"),
            json=data.get("json"),
            files=data.get("files"),
            cookies=data.get("cookies"),
        ).prepare()
        headers: dict[str, str | None] = {
            name: value if isinstance(value, str) else value.decode("latin-1")
            for name, value in prepared.headers.items()
            if name.lower() not in _SESSION_HEADERS
        }
        # The stage's credentials stand in the configured headers as OWN_CREDENTIALS (so that
        # schemathesis knows them for explicit ones): the session puts the token there. A
        # request without them (an auth check's) goes without; another value goes as it is.
        sent = [name for name in headers if name.lower() == "authorization"]
        own = bool(sent) and all(headers[name] == OWN_CREDENTIALS for name in sent)
        if own:
            for name in sent:
                del headers[name]
        body = prepared.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, bytes):
            body = b"".join(c if isinstance(c, bytes) else c.encode() for c in body)  # type: ignore[union-attr]
        request = Request(
            str(prepared.method),
            str(prepared.url),
            headers=headers,
            content=body,
            auth=own,
            timeout_s=data.get("timeout"),
        )
        try:
            response = self.session.do(request, track="fuzz")
        except TargetUnavailable as exc:
            if exc.response is None:
                raise _network_error(exc, prepared) from None
            response = exc.response  # judged by no check, counted as unavailable
        except TransportError as exc:
            raise _network_error(exc, prepared) from None
        # The session's own record of the exchange, redacted and cut as a scenario's evidence is:
        # what the fuzz checks keep as evidence (see _observe.from_schemathesis).
        prepared.suite_exchange = response.exchange  # type: ignore[attr-defined]
        return _to_schemathesis(response, prepared, verify=bool(data.get("verify", True)))


def _network_error(exc: Exception, prepared: requests.PreparedRequest) -> Exception:
    """A request the session gave up on, as schemathesis's network errors look: a ``requests``
    ``ConnectionError`` carrying the request (its hooks and recorder read it)."""
    # schemathesis reports the first argument's own arguments as the error's detail.
    return requests.exceptions.ConnectionError(OSError(str(exc)), request=prepared)


def _to_schemathesis(
    response: Response, prepared: requests.PreparedRequest, *, verify: bool
) -> SchemathesisResponse:
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(name.lower(), []).append(value)
    # The body is decoded already: the header would tell a reader to decode it again.
    headers.pop("content-encoding", None)
    return SchemathesisResponse(
        status_code=response.status_code,
        headers=headers,
        content=response.content,
        request=prepared,
        elapsed=response.elapsed_ms / 1000,
        verify=verify,
        encoding=None,
    )


def install(schema: Any, session: Session) -> None:
    """Make ``schema`` (and the clones schemathesis makes of it) send through ``session``.

    ``transport`` is a read-only property of schemathesis's schema classes, so the schema gets a
    subclass of its own class where it is a plain attribute.
    """
    cls = type(schema)
    schema.__class__ = type(cls.__name__, (cls,), {"transport": SuiteTransport(session)})


# -- the capability probes ---------------------------------------------------------------------

_probes_lock = threading.Lock()
_probing: dict[int, Session] = {}


@contextmanager
def suite_probes(schema: Any, session: Session) -> Iterator[None]:
    """While schemathesis runs ``schema``, its capability probes use ``session``.

    schemathesis sends two probes with a plain ``requests`` session of its own before it tests
    anything. The path-decoder probe goes through ``session`` instead. The other sends a NUL
    byte in a header value, which the session's HTTP client refuses to put on the wire, so it is
    not sent and counted as failed: schemathesis then generates no such header, which the
    session could not send either.
    """
    from schemathesis.engine.run import probes

    with _probes_lock:
        if not _probing:
            original = probes.run

            def run(ctx: Any) -> list[Any]:
                with _probes_lock:
                    own = _probing.get(id(ctx.schema))
                if own is None:
                    return original(ctx)
                return _run_probes(probes, ctx, own)

            run.__wrapped__ = original  # type: ignore[attr-defined]
            probes.run = run
        _probing[id(schema)] = session
    try:
        yield
    finally:
        with _probes_lock:
            _probing.pop(id(schema), None)
            if not _probing:
                probes.run = probes.run.__wrapped__  # type: ignore[attr-defined]


def _run_probes(probes: Any, ctx: Any, session: Session) -> list[Any]:
    runs = []
    for probe_class in probes.PROBES:
        probe = probe_class()
        if isinstance(probe, probes.NullByteInHeader):
            refused = ValueError("a NUL byte in a header value cannot be sent")
            runs.append(probes.ProbeRun(probe, probes.ProbeOutcome.FAILURE, None, None, refused))
            continue
        plain = requests.Session()
        try:
            prepared = probe.prepare_request(plain, requests.Request(), ctx.schema)
        finally:
            plain.close()
        prepared.headers[probes.HEADER_NAME] = probe.name
        request = Request(str(prepared.method), str(prepared.url), headers=dict(prepared.headers))
        try:
            answer = session.do(request, track="fuzz.probe")
        except TargetUnavailable as exc:
            if exc.response is None:
                runs.append(probes.ProbeRun(probe, probes.ProbeOutcome.SKIP, prepared, None, exc))
                continue
            answer = exc.response
        except TransportError as exc:
            runs.append(probes.ProbeRun(probe, probes.ProbeOutcome.SKIP, prepared, None, exc))
            continue
        raw = requests.Response()
        raw.status_code = answer.status_code
        raw._content = answer.content
        raw.headers.update(answer.headers)
        raw.request = prepared
        runs.append(probes.ProbeRun(probe, probe.analyze_response(raw), prepared, raw))
    return runs
