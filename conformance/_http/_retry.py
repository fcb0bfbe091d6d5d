"""Transient answers and which requests are safe to repeat; small helpers of the session."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ._models import Request, Response
from ._pacing import _retry_after

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
