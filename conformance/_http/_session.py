"""The session: authentication, tracking, retries, redirects, redaction and evidence."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from .._exceptions import SetupError, TargetUnavailable, TransportError
from .._redact import Redactor
from .._results import CheckResult, Exchange
from ._bodies import _BodyError, _Decoder
from ._constants import _CHUNK, _REDIRECTS, _TOKEN_MARGIN_S
from ._models import Auth, BearerToken, ClientCredentials, HttpSettings, Request, Response, track_id
from ._pacing import Pacer, _retry_after
from ._retry import (
    _describe,
    _encode_body,
    _has_header,
    _header,
    _origin,
    _seconds,
    _transient_wait,
    _unavailable,
    is_transient,
    safe_to_retry,
)
from ._transport import _local, new_transport

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
                raise TargetUnavailable(
                    _unavailable(request, response, attempts_transient), response
                )
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
