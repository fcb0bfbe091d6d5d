"""``Idempotency-Key`` on POST: the first answer (success or failure) is replayed for 24 hours.

A repeat with the same key gets the same status, headers and body (only the per-request headers
such as Zuora-Request-Id are fresh). 409 while the first request is still in progress; 422 when
the key was used for another path, method or tenant. A repeat with another body is not documented
by the vendor; the reference replays the first answer regardless.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.responses import Response

from ._errors import ApiError, Category
from ._settings import ReferenceSettings
from ._store import Store

MAX_KEY_LENGTH = 255
#: Headers that describe this exchange rather than the answer; never replayed.
_PER_REQUEST = {"content-length", "zuora-request-id", "zuora-track-id"}


def check_key(key: str, longest: int = MAX_KEY_LENGTH) -> str:
    if not key or len(key) > longest or not key.isascii() or not key.isprintable():
        raise ApiError(
            Category.INVALID_VALUE,
            f"Idempotency-Key must be 1 to {longest} printable US-ASCII characters.",
        )
    return key


class Idempotency:
    def __init__(self, store: Store, settings: ReferenceSettings) -> None:
        self._store = store
        self._settings = settings
        self._ttl = settings.idempotency_ttl

    async def answer(
        self,
        key: str,
        *,
        tenant: str,
        method: str,
        path: str,
        produce: Callable[[], Awaitable[Response]],
    ) -> Response:
        longest = MAX_KEY_LENGTH
        if self._settings.has_fault("idempotency-key-254"):  # FAULT idempotency-key-254
            longest = MAX_KEY_LENGTH - 1
        if self._settings.has_fault("idempotency-key-unbounded"):  # FAULT idempotency-key-unbounded
            longest = 1 << 20
        check_key(key, longest)
        now = time.time()
        stored = self._store.answer(key)
        if stored is not None and now - stored.created_at >= self._ttl:
            self._store.forget_answer(key)
            stored = None
        # FAULT idempotency-replay-executes: a finished answer is forgotten, the request redone
        redo = self._settings.has_fault("idempotency-replay-executes")
        if stored is not None and stored.status is not None and redo:
            self._store.forget_answer(key)
            stored = None
        if stored is not None:
            same = (stored.tenant, stored.method, stored.path) == (tenant, method, path)
            # FAULT idempotency-key-any-request
            if not same and not self._settings.has_fault("idempotency-key-any-request"):
                raise ApiError(
                    Category.INVALID_VALUE,
                    "This Idempotency-Key was already used for another request "
                    "(path, method or tenant).",
                    status=422,
                )
            if stored.status is None:
                raise ApiError(
                    Category.LOCKING_CONTENTION,
                    "The first request with this Idempotency-Key is still in progress.",
                    status=409,
                )
            return Response(stored.body, stored.status, headers=dict(stored.headers))

        # No await between the look-up above and this insert: a concurrent repeat sees the mark.
        self._store.begin_answer(key, tenant, method, path, now)
        try:
            response = await produce()
        except BaseException:
            self._store.forget_answer(key)
            raise
        per_request = _PER_REQUEST
        # VARIANT idempotency-replay-all-headers: the first answer's Zuora-Request-Id is replayed
        if self._settings.has_variant("idempotency-replay-all-headers"):
            per_request = _PER_REQUEST - {"zuora-request-id"}
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.raw_headers
            if name.decode("latin-1").lower() not in per_request
        ]
        self._store.finish_answer(key, response.status_code, headers, bytes(response.body))
        return response

    def purge(self) -> None:
        self._store.forget_answers_before(time.time() - self._ttl)
