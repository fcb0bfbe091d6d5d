"""``exchanges.har``: every exchange the run recorded, as an HTTP Archive (HAR 1.2).

One entry per :class:`~conformance.Exchange` in the result, check by check (preflight, scenarios,
fuzz, cleanup) in the order they ran, each tagged with the custom fields ``_check``,
``_requirements`` and ``_status`` (and ``_error`` when the exchange failed below HTTP). The
exchanges are the result's own, already redacted and truncated, so the HAR shows nothing the
other reports do not.

The entry objects are built with ``harfile``'s HAR 1.2 models (schemathesis's own HAR writer, in
the dependency tree already); its streaming writer has no place for ``pages`` or for custom fields,
so the log around the entries is assembled here.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import harfile

from .._results import CheckResult, Exchange, RunResult
from .._version import __version__
from ._summary import Summary

HTTP_VERSION = "HTTP/1.1"


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _records(headers: dict[str, str]) -> list[harfile.Record]:
    return [harfile.Record(name=str(name), value=str(value)) for name, value in headers.items()]


def _status_text(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def _request(exchange: Exchange) -> harfile.Request:
    query = [
        harfile.Record(name=name, value=value)
        for name, value in parse_qsl(urlsplit(exchange.url).query, keep_blank_values=True)
    ]
    post = None
    if exchange.request_body is not None:
        mime = _header(exchange.request_headers, "content-type") or "application/octet-stream"
        post = harfile.PostData(mimeType=mime, text=exchange.request_body)
    return harfile.Request(
        method=exchange.method,
        url=exchange.url,
        httpVersion=HTTP_VERSION,
        headers=_records(exchange.request_headers),
        queryString=query,
        postData=post,
        # The evidence may be truncated or redacted: its size is not the size that was sent.
        bodySize=0 if exchange.request_body is None else -1,
    )


def _response(exchange: Exchange) -> harfile.Response:
    body = exchange.response_body
    code = exchange.status_code or 0  # 0: no response (HAR's convention for a failed request)
    return harfile.Response(
        status=code,
        statusText=_status_text(code) if code else "",
        httpVersion=HTTP_VERSION if code else "",
        headers=_records(exchange.response_headers),
        content=harfile.Content(
            size=len(body.encode("utf-8", errors="replace")) if body else 0,
            mimeType=_header(exchange.response_headers, "content-type") or "",
            text=body,
        ),
        redirectURL=_header(exchange.response_headers, "location") or "",
        bodySize=0 if not body else -1,
    )


def _requirements(check: CheckResult, index: int) -> list[str]:
    """The requirements the assertions judging this exchange name; else the check's."""
    named = dict.fromkeys(
        rid for a in check.assertions if a.exchange == index for rid in a.requirement_ids
    )
    return list(named or check.all_requirement_ids())


def har_entry(check: CheckResult, index: int, exchange: Exchange, started: str) -> dict[str, Any]:
    """One HAR entry; ``time`` is the sum of the timings (all of it counted as ``wait``)."""
    elapsed = max(0.0, float(exchange.elapsed_ms))
    timings = harfile.Timings(send=0, wait=elapsed, receive=0)
    entry: dict[str, Any] = {
        "startedDateTime": started,
        "time": timings.send + timings.wait + timings.receive,
        "request": _request(exchange).asdict(),
        "response": _response(exchange).asdict(),
        "cache": {},
        "timings": timings.asdict(),
        "_check": check.id,
        "_requirements": _requirements(check, index),
        "_status": check.status.label,
    }
    if exchange.error:
        entry["_error"] = exchange.error
    return entry


def har_dict(result: RunResult) -> dict[str, Any]:
    # The result keeps no time per exchange: every entry starts at the run's start.
    started = result.started_at or "1970-01-01T00:00:00Z"
    entries = [
        har_entry(check, index, exchange, started)
        for check in result.checks
        for index, exchange in enumerate(check.evidence)
    ]
    return {
        "log": {
            "version": harfile.HAR_VERSION,
            "creator": {"name": "jr-conformance", "version": __version__},
            "comment": f"run {result.run_id} against {result.target.base_url}",
            "pages": [],
            "entries": entries,
        }
    }


def render_har(result: RunResult, summary: Summary | None = None) -> str:
    return json.dumps(har_dict(result), indent=1, ensure_ascii=False)
