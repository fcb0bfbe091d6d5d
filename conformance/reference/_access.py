"""Who is calling and how often: OAuth client credentials, bearer tokens, per-tenant rate limits.

Every tenant is separate: each OAuth ``client_id`` is its own tenant, and so is each static token,
so tests and scenarios running in parallel never see each other's runs. Tokens are stored only as
SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from ._errors import ApiError, Category
from ._settings import ReferenceSettings
from ._store import Store
from ._validation import missing


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unauthorised(message: str) -> ApiError:
    # 401 whatever the version: a client must learn to fetch a new token.
    return ApiError(
        Category.AUTHENTICATION_FAILED,
        message,
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="journal-runs"'},
    )


class Tokens:
    def __init__(self, store: Store, settings: ReferenceSettings) -> None:
        self._store = store
        self._settings = settings
        self._static = {_hash(token): f"token:{_hash(token)[:16]}" for token in settings.tokens}

    def issue(self, form_body: bytes) -> dict[str, Any]:
        """``POST /oauth/token`` with client_id, client_secret, grant_type=client_credentials."""
        try:
            form = parse_qs(form_body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise ApiError(Category.MALFORMED_REQUEST, "The body must be form-encoded.") from None
        values = {key: items[0] for key, items in form.items()}
        for name in ("client_id", "client_secret", "grant_type"):
            if not values.get(name):
                raise missing(name)
        if values["grant_type"] != "client_credentials":
            raise ApiError(Category.INVALID_VALUE, "grant_type must be client_credentials.")
        client_id = values["client_id"]
        if len(client_id) > 255 or not client_id.isprintable():
            raise ApiError(Category.INVALID_VALUE, "client_id is not a valid client ID.")
        if not hmac.compare_digest(
            values["client_secret"].encode(), self._settings.client_secret.encode()
        ):
            raise _unauthorised("Invalid client credentials.")
        token = secrets.token_hex(16)
        lifetime = self._settings.token_lifetime
        self._store.save_token(_hash(token), f"client:{client_id}", time.time() + lifetime)
        tenant_id = uuid.uuid5(uuid.NAMESPACE_URL, client_id)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": max(1, math.ceil(lifetime)),
            "scope": f"entity.{tenant_id} platform.write service.journal-runs.read "
            f"service.journal-runs.write tenant.{tenant_id}",
            "jti": uuid.uuid4().hex,
        }

    def tenant(self, authorization: str | None) -> str:
        """The tenant a ``Authorization: Bearer <token>`` header belongs to, or 401."""
        try:
            return self._tenant(authorization)
        except ApiError as error:
            if self._settings.has_fault("auth-category-10"):  # FAULT auth-category-10
                error.category = Category.PERMISSION_DENIED
            raise

    def _tenant(self, authorization: str | None) -> str:
        if not authorization:
            if self._settings.has_fault("anonymous-access"):  # FAULT anonymous-access
                return "anonymous"
            raise _unauthorised("Authentication required: send Authorization: Bearer <token>.")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorised("The Authorization header must be Bearer <token>.")
        token_hash = _hash(token)
        if token_hash in self._static:
            return self._static[token_hash]
        found = self._store.token(token_hash)
        if found is None:
            if self._settings.has_fault("any-token-accepted"):  # FAULT any-token-accepted
                return f"token:{token_hash[:16]}"
            raise _unauthorised("The bearer token is invalid.")
        tenant, expires_at = found
        if expires_at <= time.time():
            raise _unauthorised("The bearer token has expired.")
        return tenant


@dataclass
class Quota:
    limit: int
    remaining: int
    reset: int  # seconds until the window restarts

    def headers(self) -> Mapping[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """A fixed window per tenant: ``limit`` requests per ``window`` seconds, then 429."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def take(self, tenant: str) -> Quota:
        now = time.monotonic()
        with self._lock:
            started, used = self._windows.get(tenant, (now, 0))
            if now - started >= self._window:
                started, used = now, 0
            allowed = used < self._limit
            if allowed:
                used += 1
            self._windows[tenant] = (started, used)
        reset = max(1, math.ceil(started + self._window - now))
        quota = Quota(self._limit, self._limit - used, reset)
        if not allowed:
            raise ApiError(
                Category.LIMIT_EXCEEDED,
                f"Too many requests: the limit is {self._limit} every {self._window:g} seconds.",
                status=429,
                headers={**quota.headers(), "Retry-After": str(reset)},
            )
        return quota


class Concurrency:
    """Requests in flight per tenant, reported as the vendor's Concurrency-Limit-* headers.

    Reported only: with one event loop a tenant rarely has many requests in flight, and a limit
    the suite never needs to provoke would only add a way to fail.
    """

    LIMIT = 40

    def __init__(self) -> None:
        self._in_flight: dict[str, int] = {}

    def enter(self, tenant: str) -> Mapping[str, str]:
        self._in_flight[tenant] = self._in_flight.get(tenant, 0) + 1
        return {
            "Concurrency-Limit-Type": "Default",
            "Concurrency-Limit-Limit": str(self.LIMIT),
            "Concurrency-Limit-Remaining": str(max(0, self.LIMIT - self._in_flight[tenant])),
        }

    def leave(self, tenant: str) -> None:
        left = self._in_flight.get(tenant, 1) - 1
        if left > 0:
            self._in_flight[tenant] = left
        else:
            self._in_flight.pop(tenant, None)
