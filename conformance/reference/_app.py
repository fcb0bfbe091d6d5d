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
import hashlib
import json
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
from starlette.types import ASGIApp, Receive, Scope, Send

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
from ._request import Call, check_accept, check_json_content_type, parse_json_object, read_body
from ._settings import ReferenceSettings
from ._store import Store
from ._transport import Transport
from ._validation import alt_category

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
    Operation("GET", "/v1/accounting-periods", "GET_AccountingPeriods", _runs.list_periods),
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
_VERSION_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_VERSION_NUMBER = re.compile(r"\d+(\.\d+)?")
#: What a gateway in front of the API answers to a request it cannot authenticate (the variant
#: auth-401-gateway-body): not the API's envelope.
GATEWAY_401_BODY = {"message": "Authentication error"}
#: The resource code the fault resource-code-not-500000 gives requests without a body.
_WRONG_NO_BODY_RESOURCE = 530000


def check_track_id(value: str | None, longest: int = 64) -> str | None:
    """The Zuora-Track-Id to echo: 1 to 64 (``longest``) printable US-ASCII characters, none of
    : ; " '."""
    if value is None:
        return None
    if (
        not value
        or len(value) > longest
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
    #: The request named a Zuora-Version of 2024-05-20 or later (not merely the tenant default).
    newer_version: bool = False
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
        self.idempotency = Idempotency(self.store, settings)
        self._purged_at = float("-inf")

    # An ASGI app, so that Starlette can hand it every method and path (see create_app).
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        if self.settings.has_variant("request-id-opaque"):  # VARIANT request-id-opaque
            request_id = "req-" + uuid.UUID(request_id).hex
        if self.settings.has_fault("request-id-hex"):  # FAULT request-id-hex
            request_id = uuid.UUID(request_id).hex
        version = request.headers.get("zuora-version")
        exchange = Exchange(
            request_id=request_id,
            modern=self._modern(version),
            newer_version=is_modern(version, "legacy"),
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

    def _modern(self, version: str | None) -> bool:
        settings = self.settings
        if version is None and settings.has_fault("no-version-modern"):  # FAULT no-version-modern
            return True
        numeric = version is not None and _VERSION_NUMBER.fullmatch(version.strip()) is not None
        if numeric and settings.has_fault("legacy-versions-modern"):  # FAULT legacy-versions-modern
            return True
        if numeric and settings.has_fault("numbers-all-legacy"):  # FAULT numbers-all-legacy
            return False
        default = settings.error_style
        if settings.has_variant("default-modern-style"):  # VARIANT default-modern-style
            default = "modern"
        return is_modern(version, default)

    async def _dispatch(self, request: Request, exchange: Exchange) -> Response:
        found = match(request.method, request.url.path)
        unsupported = (
            found.error is not None and found.error.category is Category.UNSUPPORTED_REQUEST
        )
        if unsupported and self.settings.has_fault("unsupported-method-served"):
            found = match("GET", request.url.path)  # FAULT unsupported-method-served
        elif unsupported and alt_category(self.settings):
            # VARIANT refusal-categories-alt: a method the path does not offer is not found
            found.error = ApiError(Category.NOT_FOUND, f"No such resource: {request.url.path}")
        exchange.resource = found.resource
        track_id = request.headers.get("zuora-track-id")
        if self.settings.has_fault("track-id-not-validated"):  # FAULT track-id-not-validated
            exchange.track_id = track_id
        else:
            longest = 63 if self.settings.has_fault("track-id-63") else 64  # FAULT track-id-63
            exchange.track_id = check_track_id(track_id, longest)
        version = request.headers.get("zuora-version")
        known = (
            version is None
            or _VERSION_DATE.fullmatch(version)
            or _VERSION_NUMBER.fullmatch(version)
        )
        refuse_unknown = self.settings.has_fault("unknown-version-refused")
        if not known and refuse_unknown:  # FAULT unknown-version-refused
            raise ApiError(Category.INVALID_VALUE, "Zuora-Version is not a known version.")
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
            response = await self._call(operation, found.params, request, tenant, exchange)
            if self.settings.has_variant("idempotency-replay-all-headers"):
                # VARIANT idempotency-replay-all-headers: the id is part of the stored answer
                response.headers["Zuora-Request-Id"] = exchange.request_id
            return response

        check_accept(request.headers.get("accept"), self.settings)
        key = request.headers.get("idempotency-key")
        strict = self.settings.has_variant("idempotency-strict")  # VARIANT idempotency-strict
        if key is not None and request.method == "POST":
            path = request.url.path
            if strict:  # the body is part of what a key stands for: another body, another request
                path += "#" + await self._body_digest(request)
            return await self.idempotency.answer(
                key, tenant=tenant, method=request.method, path=path, produce=produce
            )
        if key is not None and strict:
            raise ApiError(
                Category.INVALID_VALUE, "Idempotency-Key is accepted on POST requests only."
            )
        return await produce()

    async def _body_digest(self, request: Request) -> str:
        """A digest of the raw body (read once; Starlette keeps it for the operation)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            return "too-large"  # the operation refuses it; no need to read it here
        return hashlib.sha256(await request.body()).hexdigest()

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
            settings = self.settings
            body: dict[str, Any] = {}
            if operation.has_body:
                check_json_content_type(request.headers.get("content-type"))
                # FAULT gzip-request-ignored
                gunzip = not settings.has_fault("gzip-request-ignored")
                raw = await read_body(request, settings.max_body_bytes, decompress=gunzip)
                if settings.has_fault("malformed-json-500"):  # FAULT malformed-json-500
                    json.loads(raw)  # raises on anything that is not JSON: an unexpected error
                try:
                    body = parse_json_object(raw)
                except ApiError as error:
                    # VARIANT refusal-categories-alt: a body that is not JSON is an invalid value
                    if error.category is Category.MALFORMED_REQUEST and alt_category(settings):
                        error.category = Category.INVALID_VALUE
                    raise
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
            answer = operation.handler(call)
            if settings.has_variant("fast-lifecycle"):
                # VARIANT fast-lifecycle: the steps this request started are done before it answers
                _lifecycle.advance(self.store, settings, tenant)
            return self._success(operation, answer, exchange)
        except ApiError as error:
            return self._error(error, exchange)

    def _success(
        self, operation: Operation, answer: dict[str, Any], exchange: Exchange
    ) -> Response:
        settings = self.settings
        if settings.has_fault("process-id-on-success"):  # FAULT process-id-on-success
            answer["processId"] = uuid.uuid4().hex[:16].upper()
        if settings.has_fault("reasons-on-success"):  # FAULT reasons-on-success
            answer["reasons"] = []
        operation_id = operation.operation_id
        cancel = operation_id == "PUT_JournalRun" and settings.has_fault("cancel-answers-204")
        delete = operation_id == "DELETE_JournalRun" and settings.has_fault("delete-answers-204")
        if cancel or delete:  # FAULT cancel-answers-204, delete-answers-204
            return Response(status_code=204)
        # VARIANT request-id-in-newer-versions
        if settings.has_variant("request-id-in-newer-versions") and exchange.newer_version:
            answer["requestId"] = exchange.request_id
        create = operation_id == "POST_JournalRun" and exchange.modern
        if create and settings.has_fault("created-201"):  # FAULT created-201
            return JSONResponse(answer, 201)
        return JSONResponse(answer)

    def _status(self, error: ApiError, modern: bool) -> int:
        authentication = error.category is Category.AUTHENTICATION_FAILED
        if authentication and not modern and self.settings.has_variant("auth-legacy-200"):
            return 200  # VARIANT auth-legacy-200: the legacy style for authentication too
        if error.status is not None:  # 401, 429, 409/422: the same whatever the version
            return error.status
        if not modern:
            return 200
        if self.settings.has_fault("modern-errors-as-200"):  # FAULT modern-errors-as-200
            return 200
        return error.modern_status or MODERN_STATUS[error.category]

    def _error(self, error: ApiError, exchange: Exchange) -> Response:
        settings = self.settings
        if error.category is Category.NOT_FOUND and settings.has_fault("not-found-as-30"):
            error.category = Category.RULE_RESTRICTION  # FAULT not-found-as-30
        resource = exchange.resource
        # FAULT resource-code-not-500000
        if resource == NO_BODY_RESOURCE and settings.has_fault("resource-code-not-500000"):
            resource = _WRONG_NO_BODY_RESOURCE
        seven = settings.has_fault("seven-digit-codes")  # FAULT seven-digit-codes
        code: str | int = error_code(resource, error.category, seven_digits=seven)
        if settings.has_variant("codes-as-numbers"):  # VARIANT codes-as-numbers
            code = int(code)
        message = error.message
        if settings.has_fault("empty-reason-message"):  # FAULT empty-reason-message
            message = ""
        body = envelope(code, message, exchange.request_id)
        if settings.has_variant("no-process-id"):  # VARIANT no-process-id
            del body["processId"]
        # VARIANT request-id-in-newer-versions
        if settings.has_variant("request-id-in-newer-versions") and not exchange.newer_version:
            del body["requestId"]
        if settings.has_fault("error-without-success"):  # FAULT error-without-success
            del body["success"]
        status = self._status(error, exchange.modern)
        if status == 401 and settings.has_variant("auth-401-gateway-body"):
            # VARIANT auth-401-gateway-body: a gateway answered before the API
            return JSONResponse(GATEWAY_401_BODY, 401, headers=error.headers)
        if settings.has_fault("errors-as-text"):  # FAULT errors-as-text
            text = json.dumps(body)
            return Response(text, status, headers=error.headers, media_type="text/plain")
        return JSONResponse(body, status, headers=error.headers)

    def _decorate(self, response: Response, exchange: Exchange) -> Response:
        settings = self.settings
        if settings.has_variant("idempotency-replay-all-headers"):
            # VARIANT idempotency-replay-all-headers: a replay keeps the first answer's id
            response.headers.setdefault("Zuora-Request-Id", exchange.request_id)
        else:
            response.headers["Zuora-Request-Id"] = exchange.request_id
        # FAULT track-id-not-echoed
        if exchange.track_id is not None and not settings.has_fault("track-id-not-echoed"):
            response.headers["Zuora-Track-Id"] = exchange.track_id
        # FAULT rate-limit-headers-missing
        if exchange.quota is not None and not settings.has_fault("rate-limit-headers-missing"):
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

    settings = reference.settings
    smallest = 2000 if settings.has_fault("gzip-over-2000") else 1000  # FAULT gzip-over-2000
    if settings.has_variant("gzip-small-bodies"):  # VARIANT gzip-small-bodies
        smallest = 1
    middleware = [Middleware(GZipMiddleware, minimum_size=smallest)]
    if settings.has_fault("gzip-responses-off"):  # FAULT gzip-responses-off
        middleware = []
    if settings.has_fault("gzip-always"):  # FAULT gzip-always
        middleware.insert(0, Middleware(_AcceptGzip))
    transport = Transport.chosen(settings)
    if transport is not None:  # outermost: it frames what every other layer produced
        middleware.insert(0, Middleware(Transport, **transport))
    app = Starlette(middleware=middleware, lifespan=lifespan)
    # ReferenceApp routes by itself. Starlette's route patterns stop at a newline, so a path with
    # an encoded one (%0A) would miss even a catch-all route and get a plain-text 404: every
    # request goes to the router's default instead.
    app.router.default = reference
    app.state.reference = reference
    return app


class _AcceptGzip:
    """The fault gzip-always: every request is treated as if it said Accept-Encoding: gzip."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
            scope = dict(scope, headers=[*headers, (b"accept-encoding", b"gzip")])
        await self.app(scope, receive, send)
