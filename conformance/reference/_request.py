"""What an operation sees of a request (``Call``), and the careful reading of request bodies.

Bodies are capped before and after gzip decompression, JSON is parsed strictly (no NaN, no
Infinity, nothing nested absurdly deep), and each way of failing has its category.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ._errors import ApiError, Category
from ._settings import ReferenceSettings
from ._store import Store


@dataclass
class Call:
    """One authenticated request, routed to its operation."""

    tenant: str
    params: dict[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: dict[str, Any]
    #: scheme://host:port of the request, for URLs the answer carries (nextPage).
    base_url: str
    store: Store
    settings: ReferenceSettings
    now: float


async def read_body(request: Request, limit: int, *, decompress: bool = True) -> bytes:
    """The request body, decompressed when ``Content-Encoding: gzip``, never over ``limit``.

    ``decompress=False`` ignores Content-Encoding altogether (the fault gzip-request-ignored).
    """
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ApiError(Category.MALFORMED_REQUEST, f"The request body exceeds {limit} bytes.")
    encoding = request.headers.get("content-encoding")
    if encoding is None or not decompress:
        return bytes(raw)
    if encoding.strip().lower() != "gzip":  # the only coding the API names (not even identity)
        raise ApiError(
            Category.UNSUPPORTED_REQUEST,
            f"Content-Encoding {encoding[:40]!r} is not supported; send gzip or no header.",
            modern_status=415,
        )
    # wbits 16+MAX_WBITS: a gzip wrapper; max_length stops a bomb before it fills memory.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(bytes(raw), limit + 1)
    except zlib.error:
        raise ApiError(Category.MALFORMED_REQUEST, "The gzip request body is corrupt.") from None
    if len(plain) > limit:
        raise ApiError(
            Category.MALFORMED_REQUEST, f"The decompressed request body exceeds {limit} bytes."
        )
    if not inflater.eof:
        raise ApiError(Category.MALFORMED_REQUEST, "The gzip request body is truncated.")
    return plain


def check_json_content_type(content_type: str | None) -> None:
    """Bodies are JSON: ``application/json`` or ``application/<something>+json``, parameters
    allowed. A missing Content-Type is read as JSON; any other media type is 45 (415)."""
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        raise ApiError(
            Category.UNSUPPORTED_REQUEST,
            f"Content-Type {media_type[:60]!r} is not supported; send application/json.",
            modern_status=415,
        )


def _admits_json(media_range: str) -> bool:
    media_type, *params = (part.strip().lower() for part in media_range.split(";"))
    if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
        return False
    kind, _, subtype = media_type.partition("/")
    return (kind in ("*", "application") and subtype in ("*", "json")) or subtype.endswith("+json")


def check_accept(accept: str | None, settings: ReferenceSettings) -> None:
    """Under the variant accept-refused-406, 45 (406) for an Accept that admits no JSON."""
    # VARIANT accept-refused-406 (an empty Accept states no preference)
    if accept is None or not accept.strip() or not settings.has_variant("accept-refused-406"):
        return
    if not any(_admits_json(media_range) for media_range in accept.split(",")):
        raise ApiError(
            Category.UNSUPPORTED_REQUEST,
            f"Accept {accept[:60]!r} admits no JSON; this API answers application/json only.",
            modern_status=406,
        )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object, or category 90 (not JSON) / 20 (JSON but not an object)."""
    if not raw.strip():
        raise ApiError(
            Category.MALFORMED_REQUEST, "The request body is empty; a JSON object is required."
        )
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ApiError(Category.MALFORMED_REQUEST, "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(Category.INVALID_VALUE, "The request body must be a JSON object.")
    return value
