"""The reference server's ASGI application: routing and everything around an operation.

Every request goes through ``ReferenceApp.handle`` in this order, so the answer to "which error
wins?" is the order of the lines below:

1. the path and method are matched (40 unknown path, 45 wrong method; raised after step 3),
   which fixes the resource code of any error;
2. ``Zuora-Track-Id`` is checked (20; an invalid one is not echoed);
3. the bearer token names the tenant (401, category 11), then the tenant's rate limit (429);
4. due lifecycle steps of the tenant are applied, so a read never shows a stale status;
5. ``Idempotency-Key`` on POST replays a stored answer or records this one;
6. the body is read and parsed (90 / 20) and the operation runs.

Every answer carries ``Zuora-Request-Id`` and, once a tenant is known, ``RateLimit-*`` and
``Concurrency-Limit-*``. Errors use the vendor envelope; their HTTP status follows the request's
``Zuora-Version`` (``_errors``), except the few whose status never changes (401, 429, 409, 422).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from . import _entries, _lifecycle, _runs
from ._access import Concurrency, Quota, RateLimiter, Tokens
from ._errors import (
    MODERN_STATUS,
    NO_BODY_RESOURCE,
    RESOURCE_CODES,
    ApiError,
    Category,
    envelope,
    error_code,
    is_modern,
)
from ._idempotency import Idempotency
from ._request import Call, check_json_content_type, parse_json_object, read_body
from ._settings import ReferenceSettings
from ._store import Store

logger = logging.getLogger("conformance.reference")

#: How often the background task looks for due lifecycle steps, and for expired answers.
TICK_SECONDS = 0.05
PURGE_SECONDS = 60.0

Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    handler: Handler | None  # None: the OAuth token endpoint, handled before authentication
    has_body: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template))


OPERATIONS: tuple[Operation, ...] = (
    Operation("POST", "/oauth/token", "POST_OAuthToken", None, has_body=True),
    Operation("POST", "/v1/journal-runs", "POST_JournalRun", _runs.create_run, has_body=True),
    Operation("GET", "/v1/journal-runs/{jr}", "GET_JournalRun", _runs.get_run),
    Operation("PUT", "/v1/journal-runs/{jr}/cancel", "PUT_JournalRun", _runs.cancel_run),
    Operation("DELETE", "/v1/journal-runs/{jr}", "DELETE_JournalRun", _runs.delete_run),
    Operation(
        "POST",
        "/v1/journal-entries",
        "POST_SummaryJournalEntry",
        _entries.create_entry,
        has_body=True,
    ),
    Operation("GET", "/v1/journal-entries/{je}", "GET_SummaryJournalEntry", _entries.get_entry),
    Operation(
        "GET",
        "/v1/journal-entries/journal-runs/{jr}",
        "GET_AllSummaryJournalEntries",
        _entries.list_entries,
    ),
    Operation(
        "PUT",
        "/v1/journal-entries/{je}/basic-information",
        "PUT_BasicSummaryJournalEntry",
        _entries.update_entry,
        has_body=True,
    ),
    Operation(
        "PUT", "/v1/journal-entries/{je}/cancel", "PUT_SummaryJournalEntry", _entries.cancel_entry
    ),
    Operation(
        "DELETE", "/v1/journal-entries/{je}", "DELETE_SummaryJournalEntry", _entries.delete_entry
    ),
)
_COMPILED = tuple((operation, operation.pattern) for operation in OPERATIONS)


@dataclass
class Match:
    operation: Operation | None
    params: dict[str, str]
    error: ApiError | None
    public: bool  # the OAuth path: no bearer token needed

    @property
    def resource(self) -> int:
        if self.operation is not None and self.operation.has_body:
            return RESOURCE_CODES[self.operation.operation_id]
        return NO_BODY_RESOURCE


def match(method: str, path: str) -> Match:
    on_path = [(op, found) for op, pattern in _COMPILED if (found := pattern.fullmatch(path))]
    public = any(op.handler is None for op, _ in on_path)
    for operation, found in on_path:
        if operation.method == method:
            return Match(operation, found.groupdict(), None, public)
    if not on_path:
        return Match(None, {}, ApiError(Category.NOT_FOUND, f"No such resource: {path}"), public)
    allowed = ", ".join(sorted({op.method for op, _ in on_path}))
    error = ApiError(
        Category.UNSUPPORTED_REQUEST,
        f"Method {method} is not supported on {path}; use {allowed}.",
        headers={"Allow": allowed},
    )
    return Match(None, {}, error, public)


_TRACK_ID_FORBIDDEN = set(":;\"'")


def check_track_id(value: str | None) -> str | None:
    """The Zuora-Track-Id to echo: 1 to 64 printable US-ASCII characters, none of : ; " '."""
    if value is None:
        return None
    if (
        not value
        or len(value) > 64
        or any(not " " <= char <= "~" or char in _TRACK_ID_FORBIDDEN for char in value)
    ):
        raise ApiError(
            Category.INVALID_VALUE,
            "Zuora-Track-Id must be 1 to 64 printable US-ASCII characters without : ; \" or '.",
        )
    return value


@dataclass
class Exchange:
    """What the answer's headers need to know about this request."""

    request_id: str
    modern: bool
    resource: int = NO_BODY_RESOURCE
    track_id: str | None = None
    quota: Quota | None = None
    #: Further per-request headers (Concurrency-Limit-*), never replayed by Idempotency-Key.
    extra_headers: dict[str, str] = field(default_factory=dict)


class ReferenceApp:
    def __init__(self, settings: ReferenceSettings) -> None:
        self.settings = settings
        self.store = Store(settings.db_path)
        self.tokens = Tokens(self.store, settings)
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_window)
        self.concurrency = Concurrency()
        self.idempotency = Idempotency(self.store, settings.idempotency_ttl)
        self._purged_at = float("-inf")

    # An ASGI app, so that Starlette can hand it every method and path (see create_app).
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        exchange = Exchange(
            request_id=str(uuid.uuid4()),
            modern=is_modern(request.headers.get("zuora-version"), self.settings.error_style),
        )
        try:
            response = await self._dispatch(request, exchange)
        except ApiError as error:
            response = self._error(error, exchange)
        except Exception:  # the last line of defence: an envelope, never a traceback
            logger.exception("unexpected error in %s %s", request.method, request.url.path)
            internal = ApiError(Category.INTERNAL_ERROR, "Internal error.", status=500)
            response = self._error(internal, exchange)
        return self._decorate(response, exchange)

    async def _dispatch(self, request: Request, exchange: Exchange) -> Response:
        found = match(request.method, request.url.path)
        exchange.resource = found.resource
        exchange.track_id = check_track_id(request.headers.get("zuora-track-id"))
        if found.public:
            if found.error is not None:
                raise found.error
            body = await read_body(request, self.settings.max_body_bytes)
            return JSONResponse(self.tokens.issue(body))

        tenant = self.tokens.tenant(request.headers.get("authorization"))
        exchange.quota = self.limiter.take(tenant)
        exchange.extra_headers.update(self.concurrency.enter(tenant))
        try:
            return await self._serve(request, exchange, found, tenant)
        finally:
            self.concurrency.leave(tenant)

    async def _serve(
        self, request: Request, exchange: Exchange, found: Match, tenant: str
    ) -> Response:
        if found.error is not None:
            raise found.error
        assert found.operation is not None
        _lifecycle.advance(self.store, self.settings, tenant)

        operation = found.operation

        async def produce() -> Response:
            return await self._call(operation, found.params, request, tenant, exchange)

        key = request.headers.get("idempotency-key")
        if key is not None and request.method == "POST":
            return await self.idempotency.answer(
                key, tenant=tenant, method=request.method, path=request.url.path, produce=produce
            )
        return await produce()

    async def _call(
        self,
        operation: Operation,
        params: dict[str, str],
        request: Request,
        tenant: str,
        exchange: Exchange,
    ) -> Response:
        """Run the operation; its rejections become answers here so Idempotency-Key keeps them."""
        assert operation.handler is not None
        try:
            body: dict[str, Any] = {}
            if operation.has_body:
                check_json_content_type(request.headers.get("content-type"))
                raw = await read_body(request, self.settings.max_body_bytes)
                body = parse_json_object(raw)
            call = Call(
                tenant=tenant,
                params=params,
                query=request.query_params,
                headers=request.headers,
                body=body,
                base_url=str(request.base_url).rstrip("/"),
                store=self.store,
                settings=self.settings,
                now=time.time(),
            )
            return JSONResponse(operation.handler(call))
        except ApiError as error:
            return self._error(error, exchange)

    def _status(self, error: ApiError, modern: bool) -> int:
        if error.status is not None:  # 401, 429, 409/422: the same whatever the version
            return error.status
        if not modern:
            return 200
        if self.settings.has_fault("modern-errors-as-200"):  # FAULT modern-errors-as-200
            return 200
        return error.modern_status or MODERN_STATUS[error.category]

    def _error(self, error: ApiError, exchange: Exchange) -> Response:
        seven = self.settings.has_fault("seven-digit-codes")  # FAULT seven-digit-codes
        code = error_code(exchange.resource, error.category, seven_digits=seven)
        body = envelope(code, error.message, exchange.request_id)
        return JSONResponse(body, self._status(error, exchange.modern), headers=error.headers)

    def _decorate(self, response: Response, exchange: Exchange) -> Response:
        response.headers["Zuora-Request-Id"] = exchange.request_id
        if exchange.track_id is not None:
            response.headers["Zuora-Track-Id"] = exchange.track_id
        if exchange.quota is not None:
            for name, value in exchange.quota.headers().items():
                response.headers.setdefault(name, value)
        for name, value in exchange.extra_headers.items():
            response.headers.setdefault(name, value)
        return response

    def tick(self) -> None:
        """One round of background work: due lifecycle steps of every tenant and, once a
        minute, forgetting expired Idempotency-Key answers."""
        _lifecycle.advance(self.store, self.settings)
        if time.monotonic() - self._purged_at >= PURGE_SECONDS:
            self.idempotency.purge()
            self._purged_at = time.monotonic()


def create_app(settings: ReferenceSettings | None = None) -> Starlette:
    """The reference server as an ASGI app (``uvicorn``, ``httpx.ASGITransport``...).

    Without a lifespan (ASGITransport) the lifecycle still advances: every request applies the
    steps that are due for its tenant.
    """
    reference = ReferenceApp(settings or ReferenceSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def ticker() -> None:
            while True:
                try:
                    reference.tick()
                except Exception:  # keep ticking; the next request retries lazily anyway
                    logger.exception("background lifecycle step failed")
                await asyncio.sleep(TICK_SECONDS)

        task = asyncio.create_task(ticker())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            reference.store.close()

    app = Starlette(
        middleware=[Middleware(GZipMiddleware, minimum_size=1000)],
        lifespan=lifespan,
    )
    # ReferenceApp routes by itself. Starlette's route patterns stop at a newline, so a path with
    # an encoded one (%0A) would miss even a catch-all route and get a plain-text 404: every
    # request goes to the router's default instead.
    app.router.default = reference
    app.state.reference = reference
    return app
