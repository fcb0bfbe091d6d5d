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
"""

from __future__ import annotations

import email.utils
import functools
import gzip
import hashlib
import json
import random
import re
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpcore
import httpx

from ._exceptions import ConfigError, SetupError, TargetUnavailable, TransportError
from ._redact import DEFAULT_BODY_LIMIT, Redactor
from ._results import CheckResult, Exchange
from ._version import __version__

__all__ = [
    "BearerToken",
    "ClientCredentials",
    "HttpSettings",
    "Pacer",
    "Request",
    "Response",
    "Session",
    "track_id",
]

USER_AGENT = f"journal-runs-conformance/{__version__}"
MAX_TRACK_ID = 64
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Tokens are refreshed this long before the server says they expire.
_TOKEN_MARGIN_S = 60.0
# Below this share of RateLimit-Limit left, requests are spread over the rest of the window.
_RATE_LIMIT_LOW = 0.10
_CHUNK = 64 * 1024


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


# -- bounding every socket operation by the request's deadline ---------------------------------

_local = threading.local()


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of this thread's current request deadline."""
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise expired("request deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend with every connect, read and write cut at the request deadline.

    The deadline lives in a thread local: a sync request does all its I/O in the calling thread,
    even on a pooled connection opened by another thread.
    """

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds; one context serves every session.
    return httpx.create_ssl_context(verify=verify, trust_env=False)


def new_transport(settings: HttpSettings) -> httpx.BaseTransport:
    """A connection pool for ``settings``' target, to share between sessions."""
    return _Transport(settings.verify_tls)


class _Transport(httpx.HTTPTransport):
    def __init__(self, verify: bool) -> None:
        ssl_context = _ssl_context(verify)
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx offers no hook for the network backend, so the pool is rebuilt with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(),
        )


# -- pacing ------------------------------------------------------------------------------------


class Pacer:
    """The request budget of one target, shared by every session of a run and by the fuzzer.

    ``per_min``: never more than that many requests in any window of 60 s. A token bucket that
    holds one request and refills at ``(per_min - 1) / 60`` a second does that (a bucket of
    capacity ``c`` and rate ``r`` lets ``c + 60 r`` through in a minute) and spreads requests
    evenly, so a polling step is never starved by a burst of other threads. ``None``: no budget.

    It also holds the pause a nearly spent ``RateLimit-*`` budget asks for, which is the
    target's and so every session's. ``reserve()`` says how long to wait before the next
    request; ``wait()`` waits it.
    """

    def __init__(
        self,
        per_min: float | None = None,
        *,
        max_wait_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_min = per_min
        self._clock = clock
        self._rate = 0.0
        if per_min is not None:
            if not per_min > 0:
                raise ConfigError(f"a rate limit must be > 0 requests a minute, not {per_min!r}")
            self._rate = (per_min - 1) / 60.0 if per_min >= 2 else per_min / 120.0
        self._max_wait_s = max_wait_s
        self._tokens = 1.0
        self._updated = clock()
        self._pause_until = 0.0  # monotonic; set by RateLimit-* headers
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next request's turn; the seconds to wait before sending it."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            if self._rate:
                self._tokens = min(1.0, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                self._tokens -= 1.0
                wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            return max(wait, self._pause_until - now)  # note() keeps a pause within bounds

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        wait = self.reserve()
        if wait > 0:
            sleep(wait)

    def note(self, headers: httpx.Headers | Mapping[str, str]) -> None:
        """Slow down when a response says the target's budget is nearly spent."""
        pause = min(_rate_limit_pause(headers), self._max_wait_s)
        if pause > 0:
            with self._lock:
                self._pause_until = max(self._pause_until, self._clock() + pause)


def _retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _rate_limit_pause(headers: httpx.Headers | Mapping[str, str]) -> float:
    """How long to hold the next request so a nearly spent ``RateLimit-*`` budget lasts until
    ``RateLimit-Reset``: the rest of the window spread evenly over the requests left."""
    try:
        limit = float(headers["RateLimit-Limit"].split(",")[0].split(";")[0])
        remaining = float(headers["RateLimit-Remaining"].split(",")[0].split(";")[0])
        reset = float(headers["RateLimit-Reset"].split(",")[0].split(";")[0])
    except (KeyError, ValueError, IndexError):
        return 0.0
    if limit <= 0 or remaining >= limit * _RATE_LIMIT_LOW:
        return 0.0
    if reset > 1e9:  # an epoch timestamp rather than delta-seconds
        reset -= time.time()
    reset = max(0.0, reset)
    return reset if remaining <= 0 else reset / remaining


# -- bodies ------------------------------------------------------------------------------------


class _BodyError(Exception):
    """A body could not be read within the caps; the message is the readable reason."""


class _Decoder:
    """Incremental gzip/deflate decoding that refuses to produce more than ``cap`` bytes."""

    def __init__(self, encoding: str, cap: int) -> None:
        self._encoding = encoding
        self._cap = cap
        self._produced = 0
        self._deflate_raw = False
        self._first = True
        self._obj = self._new()

    def _new(self) -> Any:
        if self._encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._deflate_raw else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        while data:
            try:
                chunk = self._obj.decompress(data, self._cap - self._produced + 1)
            except zlib.error as exc:
                # "deflate" is often sent without the zlib wrapper; retry raw once, as browsers do.
                if self._encoding == "deflate" and self._first and not self._deflate_raw:
                    self._deflate_raw = True
                    self._obj = self._new()
                    continue
                raise _BodyError(f"invalid {self._encoding} body: {exc}") from None
            self._first = False
            self._produced += len(chunk)
            if self._produced > self._cap:
                raise _BodyError(f"{self._encoding} body decompresses beyond {self._cap} bytes")
            out += chunk
            # Under the cap, decompress() consumed everything unless a member ended: several
            # gzip members in a row are legal, so start the next one.
            data = self._obj.unused_data if self._obj.eof else b""
            if data:
                self._obj = self._new()
        return bytes(out)

    def flush(self) -> bytes:
        return self._obj.flush()  # type: ignore[no-any-return]


# -- the session -------------------------------------------------------------------------------


@dataclass
class _Token:
    value: str
    expires_at: float  # time.monotonic(); inf when the server gave no lifetime
    generation: int


class Session:
    """One HTTP session for the whole run; thread-safe. Use as a context manager or ``close()``."""

    def __init__(
        self,
        settings: HttpSettings,
        auth: Auth | None = None,
        *,
        redactor: Redactor | None = None,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``transport`` and ``pacer`` may be shared by several sessions (one connection pool
        and one request budget per target); a given transport is left open by :meth:`close`."""
        self.settings = settings
        self.auth = auth
        self.redactor = redactor or Redactor()
        self._sleep = sleep
        self._base_url = settings.base_url.rstrip("/")
        # The transport (one connection pool) is used without an httpx.Client around it: the
        # client parses every Location header even when not following redirects (a bad one
        # would hide the response), and keeps cookies, which a conformance run must not.
        self._transport = transport or new_transport(settings)
        self._owns_transport = transport is None
        self._lock = threading.Lock()
        self._requests_sent = 0
        self._count_by_stage: dict[str, int] = {}
        self._retries = 0
        self.stage = "default"
        #: Shared with the other sessions of a run (and its fuzzer) when one is given.
        self.pacer = pacer or Pacer(
            settings.rate_limit_per_min, max_wait_s=settings.max_retry_wait_s
        )
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._generation = 0
        #: Called with each request before :meth:`do` sends it (token requests excepted); one may
        #: raise a :class:`ConformanceError` to refuse it (the ledger's safety rules).
        self.guards: list[Callable[[Request], None]] = []
        #: Called with each request :meth:`do` sent and its final response, or ``None`` when it
        #: failed below HTTP (the ledger records what a request created).
        self.observers: list[Callable[[Request, Response | None], None]] = []
        if isinstance(auth, BearerToken):
            self.redactor.add(auth.token)
        elif isinstance(auth, ClientCredentials):
            self.redactor.add(auth.client_secret)

    # -- lifecycle and figures -----------------------------------------------------------------

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_transport:
            self._transport.close()

    @property
    def requests_sent(self) -> int:
        """Every HTTP request sent so far: retries, redirect hops and token requests included."""
        with self._lock:
            return self._requests_sent

    @property
    def retries(self) -> int:
        """Transient answers retried so far (429 waits and token refreshes not included)."""
        with self._lock:
            return self._retries

    @property
    def count_by_stage(self) -> dict[str, int]:
        with self._lock:
            return dict(self._count_by_stage)

    @contextmanager
    def in_stage(self, name: str) -> Iterator[None]:
        """Count the requests sent inside the block under stage ``name``."""
        previous, self.stage = self.stage, name
        try:
            yield
        finally:
            self.stage = previous

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self._base_url}/{path.lstrip('/')}" if path else self._base_url

    # -- requests ------------------------------------------------------------------------------

    def do(
        self,
        request: Request,
        *,
        check: CheckResult | None = None,
        track: str | None = None,
        stage: str | None = None,
    ) -> Response:
        """Send ``request`` and read its response within the limits.

        ``429`` is retried after ``Retry-After`` (up to ``max_retries_429`` times, then returned);
        with client credentials a ``401`` fetches a new token and the request is retried once.
        A transient answer (502/503/504, 500 category 61) to a request safe to repeat is retried
        with backoff within the request's timeout; one that stays transient (or cannot be
        repeated safely) raises :class:`TargetUnavailable`, so no check judges a gateway.
        Every exchange (each retry and redirect hop too) is appended, redacted, to
        ``check.evidence``. Failures below HTTP raise :class:`TransportError`.
        """
        stage = stage or self.stage
        for guard in list(self.guards):
            guard(request)
        try:
            response = self._do(request, check=check, track=track, stage=stage)
        except TransportError:
            self._observe(request, None)
            raise
        self._observe(request, response)
        return response

    def _observe(self, request: Request, response: Response | None) -> None:
        for observer in list(self.observers):
            observer(request, response)

    def _do(
        self, request: Request, *, check: CheckResult | None, track: str | None, stage: str
    ) -> Response:
        attempts_429 = 0
        attempts_transient = 0
        refreshed = False
        timeout = request.timeout_s if request.timeout_s is not None else self.settings.timeout_s
        # Retries of transient answers share one budget: the request's own timeout, again.
        budget_end = time.monotonic() + timeout
        while True:
            token = self._current_token(check, track, stage) if request.auth else None
            response = self._send(request, token, check=check, track=track, stage=stage)
            if is_transient(response):
                pause = _transient_wait(response, attempts_transient)
                if (
                    safe_to_retry(request)
                    and attempts_transient < self.settings.max_retries_transient
                    and time.monotonic() + pause < budget_end
                ):
                    attempts_transient += 1
                    with self._lock:
                        self._retries += 1
                    self._sleep(pause)
                    continue
                # A gateway's answer says nothing about the API: no check may judge it.
                raise TargetUnavailable(_unavailable(request, response, attempts_transient))
            if response.status_code == 429 and attempts_429 < self.settings.max_retries_429:
                attempts_429 += 1
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait is None:  # no hint: back off exponentially from one second
                    wait = float(2 ** (attempts_429 - 1))
                self._sleep(min(wait, self.settings.max_retry_wait_s))
                continue
            if (
                response.status_code == 401
                and isinstance(self.auth, ClientCredentials)
                and request.auth
                and not refreshed
                and not _has_header(request.headers, "Authorization")
            ):
                refreshed = True
                self._invalidate(token)
                continue
            return response

    # -- one attempt: the request and its redirect hops --------------------------------------------

    def _send(
        self,
        request: Request,
        token: _Token | None,
        *,
        check: CheckResult | None,
        track: str | None,
        stage: str,
    ) -> Response:
        timeout = request.timeout_s if request.timeout_s is not None else self.settings.timeout_s
        body, body_type = _encode_body(request)
        wire_body = gzip.compress(body, mtime=0) if body is not None and request.gzip_body else body
        headers = self._headers(request, token, track, body_type)
        method, url, params = request.method.upper(), self.url(request.path), request.params
        hops = 0
        while True:
            response = self._exchange(
                method,
                url,
                params,
                headers,
                wire_body,
                body,
                timeout=timeout,
                check=check,
                stage=stage,
            )
            location = response.headers.get("Location")
            if not (
                self.settings.follow_redirects
                and response.status_code in _REDIRECTS
                and location is not None
            ):
                return response
            hops += 1
            if hops > self.settings.max_redirects:
                message = f"too many redirects (more than {self.settings.max_redirects})"
                response.exchange.error = message  # already in the evidence: mark it
                raise self._fail(method, url, message)
            try:
                next_url = str(httpx.URL(url).join(location))
                same_origin = _origin(next_url) == _origin(url)
            except httpx.InvalidURL:
                message = f"invalid redirect Location {location!r}"
                response.exchange.error = message
                raise self._fail(method, url, message) from None
            if not same_origin:
                # Credentials are for the target only, never for wherever it points us.
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            status = response.status_code
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, wire_body, body = "GET", None, None
                headers = {
                    k: v
                    for k, v in headers.items()
                    if k.lower() not in ("content-type", "content-encoding")
                }
            url, params = next_url, None

    def _headers(
        self, request: Request, token: _Token | None, track: str | None, body_type: str | None
    ) -> dict[str, str]:
        settings = self.settings
        headers: dict[str, str | None] = {
            "Accept": "application/json",
            # Only what _Decoder can decode with a cap.
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": settings.user_agent,
            "Zuora-Version": settings.zuora_version,
            "Zuora-Track-Id": track_id(settings.run_id, track),
            "Content-Type": body_type,
            "Content-Encoding": "gzip" if request.gzip_body and body_type is not None else None,
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token.value}"
        # Caller headers replace ours whatever their case.
        for name, value in (request.headers or {}).items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        return {name: value for name, value in headers.items() if value is not None}

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
        wire_body: bytes | None,
        body: bytes | None,
        *,
        timeout: float,
        check: CheckResult | None,
        stage: str,
    ) -> Response:
        """One HTTP request and its response, recorded as one Exchange; ``timeout`` bounds it
        from the moment it leaves (pacing waits come first)."""
        self.pacer.wait(self._sleep)
        try:
            built = httpx.Request(
                method,
                url,
                params=params,
                headers=headers,
                content=wire_body,
                extensions={"timeout": httpx.Timeout(timeout).as_dict()},
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
            failed = Exchange(method=method, url=self.redactor.url(url))
            failed.error = self.redactor.scrub(f"invalid request: {exc}")
            if check is not None:
                check.add_exchange(failed)
            raise TransportError(f"{method} {failed.url}: {failed.error}") from None
        exchange = Exchange(
            method=method,
            url=self.redactor.url(str(built.url)),
            request_headers=self.redactor.headers(
                (k, v) for k, v in headers.items() if k.lower() != "content-length"
            ),
            request_body=self.redactor.body(
                body, _header(headers, "Content-Type"), self.settings.evidence_body_bytes
            ),
        )
        self._count(stage)
        started = time.monotonic()
        deadline = _local.deadline = started + timeout
        try:
            status, response_headers, content = self._read(built, timeout, deadline)
        except _BodyError as exc:
            exchange.elapsed_ms = (time.monotonic() - started) * 1000
            exchange.error = self.redactor.scrub(str(exc))
            if check is not None:
                check.add_exchange(exchange)
            raise TransportError(f"{method} {exchange.url}: {exchange.error}") from None
        finally:
            _local.deadline = None
        elapsed_ms = (time.monotonic() - started) * 1000
        exchange.status_code = status
        exchange.response_headers = self.redactor.headers(response_headers.multi_items())
        exchange.response_body = self.redactor.body(
            content, response_headers.get("Content-Type"), self.settings.evidence_body_bytes
        )
        exchange.elapsed_ms = elapsed_ms
        index = check.add_exchange(exchange) if check is not None else None
        self.pacer.note(response_headers)
        return Response(
            method=method,
            url=str(built.url),
            status_code=status,
            headers=response_headers,
            content=content,
            elapsed_ms=elapsed_ms,
            exchange=exchange,
            exchange_index=index,
        )

    def _read(
        self, request: httpx.Request, timeout: float, deadline: float
    ) -> tuple[int, httpx.Headers, bytes]:
        """Send, then read the body within the deadline and the caps; ``_BodyError`` if not."""
        cap = self.settings.max_body_bytes
        try:
            response = self._transport.handle_request(request)
        except httpx.HTTPError as exc:
            raise _BodyError(_describe(exc, timeout)) from None
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise _BodyError(f"response body exceeds {cap} bytes (Content-Length {declared})")
            encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
            decoder: _Decoder | None = None
            if encoding in ("gzip", "x-gzip", "deflate"):
                name = "deflate" if encoding == "deflate" else "gzip"
                decoder = _Decoder(name, self.settings.max_decompressed_bytes)
            elif encoding not in ("", "identity"):
                raise _BodyError(f"unsupported Content-Encoding {encoding!r}")
            received = 0
            body = bytearray()
            try:
                for chunk in response.iter_raw(_CHUNK):
                    received += len(chunk)
                    if received > cap:
                        raise _BodyError(f"response body exceeds {cap} bytes")
                    body += decoder.feed(chunk) if decoder else chunk
                    if time.monotonic() > deadline:
                        raise _BodyError(f"timed out after {_seconds(timeout)} s")
                if decoder:
                    body += decoder.flush()
            except httpx.HTTPError as exc:
                raise _BodyError(_describe(exc, timeout)) from None
            return response.status_code, response.headers, bytes(body)
        finally:
            response.close()

    def _fail(self, method: str, url: str, reason: str) -> TransportError:
        return TransportError(f"{method} {self.redactor.url(url)}: {self.redactor.scrub(reason)}")

    # -- throttling ------------------------------------------------------------------------------

    def _count(self, stage: str) -> None:
        with self._lock:
            self._requests_sent += 1
            self._count_by_stage[stage] = self._count_by_stage.get(stage, 0) + 1

    # -- authentication --------------------------------------------------------------------------

    def bearer_token(self) -> str | None:
        """The bearer token requests are sent with (fetched now with client credentials), for a
        stage that sends requests through another client (schemathesis). ``None``: no auth."""
        token = self._current_token(None, "token", self.stage)
        return token.value if token else None

    def _current_token(
        self, check: CheckResult | None, track: str | None, stage: str
    ) -> _Token | None:
        if isinstance(self.auth, BearerToken):
            return _Token(self.auth.token, float("inf"), 0)
        if not isinstance(self.auth, ClientCredentials):
            return None
        with self._token_lock:  # one thread fetches; the others wait for its token
            if self._token is None or time.monotonic() >= self._token.expires_at:
                self._token = self._fetch_token(self.auth, check, track, stage)
            return self._token

    def _invalidate(self, token: _Token | None) -> None:
        with self._token_lock:
            # Another thread may already have replaced the token this request was sent with.
            current = self._token
            if token is not None and current is not None and current.generation == token.generation:
                self._token = None

    def _fetch_token(
        self, auth: ClientCredentials, check: CheckResult | None, track: str | None, stage: str
    ) -> _Token:
        token_url = auth.token_url or self.url("/oauth/token")
        form = {
            "client_id": auth.client_id,
            "client_secret": auth.client_secret,
            "grant_type": "client_credentials",
        }
        request = Request(
            method="POST",
            path=token_url,
            content=urlencode(form).encode("ascii"),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Zuora-Version": None,
            },
            auth=False,
        )
        response = self._send(request, None, check=check, track=track, stage=stage)
        data = response.json_or_none()
        value = data.get("access_token") if isinstance(data, dict) else None
        if response.status_code != 200 or not isinstance(value, str) or not value:
            detail = ""
            if isinstance(data, dict):
                detail = str(data.get("error_description") or data.get("error") or "")
            reason = f"answered {response.status_code}" + (f": {detail}" if detail else "")
            if response.status_code == 200:
                reason = "answered 200 without an access_token"
            message = f"token request to {self.redactor.url(token_url)} {reason}"
            raise SetupError(self.redactor.scrub(message))
        self.redactor.add(value)
        lifetime = data.get("expires_in") if isinstance(data, dict) else None
        expires_at = float("inf")
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool):
            expires_at = time.monotonic() + max(0.0, float(lifetime) - _TOKEN_MARGIN_S)
        self._generation += 1
        return _Token(value, expires_at, self._generation)


# -- helpers -----------------------------------------------------------------------------------

#: Answers a gateway or an overloaded target gives; a repeat of a safe request may succeed.
TRANSIENT_STATUSES = frozenset({502, 503, 504})
_TEMPORARY_CATEGORY = "61"  # api-facts: category 61 = temporary error (HTTP 500)
_BACKOFF_BASE_S = 0.2
_BACKOFF_CAP_S = 5.0


def is_transient(response: Response) -> bool:
    """502/503/504, or a 500 whose ``reasons`` carry a category-61 (temporary error) code."""
    return transient_answer(response.status_code, response.json_or_none)


def transient_answer(status: int | None, body: Callable[[], Any]) -> bool:
    """:func:`is_transient` for any answer: ``body()`` gives its JSON (or ``None``), read only
    for a 500."""
    if status in TRANSIENT_STATUSES:
        return True
    if status != 500:
        return False
    data = body()
    reasons = data.get("reasons") if isinstance(data, dict) else None
    if not isinstance(reasons, list):
        return False
    for reason in reasons:
        code = reason.get("code") if isinstance(reason, dict) else None
        if isinstance(code, int | str) and not isinstance(code, bool):
            text = str(code)
            if len(text) == 8 and text.isdigit() and text[-2:] == _TEMPORARY_CATEGORY:
                return True
    return False


def safe_to_retry(request: Request) -> bool:
    """GET/HEAD/DELETE, a PUT on a cancel URL, a POST with an Idempotency-Key."""
    method = request.method.upper()
    if method in ("GET", "HEAD", "DELETE"):
        return True
    if method == "PUT":
        return request.path.split("?", 1)[0].rstrip("/").endswith("/cancel")
    if method == "POST":
        return _header_value(request.headers, "Idempotency-Key") is not None
    return False


def _unavailable(request: Request, response: Response, retries: int) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    why = (
        f"after {retries} {'retry' if retries == 1 else 'retries'}"
        if safe_to_retry(request)
        else "not retried: repeating this request is not safe"
    )
    return (
        f"the target was unavailable: HTTP {response.status_code} ({kind}) to "
        f"{request.method.upper()} {request.path}, {why}"
    )


def _transient_wait(response: Response, attempt: int) -> float:
    """``Retry-After`` when given (capped), else exponential backoff with full jitter."""
    hinted = _retry_after(response.headers.get("Retry-After"))
    if hinted is not None:
        return min(max(hinted, 0.0), _BACKOFF_CAP_S)
    return random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempt))


def _encode_body(request: Request) -> tuple[bytes | None, str | None]:
    """The body bytes (before any gzip) and the Content-Type they call for."""
    if request.content is not None:
        return request.content, None
    if request.json is not None:
        text = json.dumps(request.json, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8"), "application/json"
    return None, None


def _has_header(headers: Mapping[str, Any] | None, name: str) -> bool:
    return any(k.lower() == name.lower() for k in (headers or {}))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _seconds(value: float) -> str:
    return repr(float(value))


_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")


def _describe(exc: httpx.HTTPError, timeout: float) -> str:
    """One readable line for a transport failure (never the request, which may hold secrets)."""
    text = str(exc) or type(exc).__name__
    lower = text.lower()
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {_seconds(timeout)} s"
    if "certificate_verify_failed" in lower or "certificate verify failed" in lower:
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl")[0].strip()
        return (
            f"TLS certificate verify failed: {detail}"
            if detail
            else "TLS certificate verify failed"
        )
    if isinstance(exc, httpx.ConnectError):
        if "refused" in lower:
            return "connection refused"
        if "name or service not known" in lower or "nodename nor servname" in lower:
            return "cannot resolve the host name"
        if "ssl" in lower or "tls" in lower:
            return f"TLS handshake failed: {_ERRNO.sub('', text)}"
        return f"cannot connect: {_ERRNO.sub('', text)}"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "peer closed connection" in lower or "incomplete" in lower:
            return "connection closed before the response was complete"
        if "disconnected without sending a response" in lower:
            return "connection closed without a response"
        return f"invalid HTTP response: {text}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"connection reset: {_ERRNO.sub('', text)}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL: {text}"
    if isinstance(exc, httpx.LocalProtocolError):
        return f"invalid request: {text}"
    return f"{type(exc).__name__}: {text}"


def _header_value(headers: Mapping[str, str | None] | None, name: str) -> str | None:
    return next((v for k, v in (headers or {}).items() if k.lower() == name.lower()), None)
