"""``exchanges.har``: every exchange the run sent, as an HTTP Archive (HAR 1.2).

One entry per exchange, in the order the stages ran (preflight, scenarios, fuzz, cleanup), each
tagged with the custom fields ``_check``, ``_requirements`` and ``_status`` (and ``_error`` when
the exchange failed below HTTP):

- the preflight, the scenarios and the cleanup: every exchange in their checks' evidence (they
  record all they send), with the check's id and status and the requirements of the assertions
  that judged it;
- the fuzz stage: while it runs, every exchange it records goes, redacted, to a
  :class:`FuzzSpool` (an anonymous temporary file, so thousands of exchanges cost no memory),
  with its verdicts: ``_check`` is the fuzz check that failed it (else the first that judged it),
  ``_checks`` all of them, ``_status`` pass, warn or fail (``skip``: judged by no check, e.g. a
  transient 503). A result without a spool (read back from results.json) falls back to the
  fuzz checks' evidence, which keeps only their violations.

The entry objects are built with ``harfile``'s HAR 1.2 models (schemathesis's own HAR writer, in
the dependency tree already); its streaming writer has no place for ``pages`` or for custom fields,
so the log around the entries is written here, one entry at a time.
"""

from __future__ import annotations

import json
import tempfile
import threading
import weakref
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import harfile

from .._results import CheckResult, Exchange, RunResult, Status
from .._version import __version__
from ._summary import Summary

HTTP_VERSION = "HTTP/1.1"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _records(headers: Mapping[str, str]) -> list[harfile.Record]:
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


def entry(
    exchange: Exchange,
    started: str,
    check_id: str,
    requirements: Sequence[str],
    status: str,
    **extra: Any,
) -> dict[str, Any]:
    """One HAR entry; ``time`` is the sum of the timings (all of it counted as ``wait``)."""
    elapsed = max(0.0, float(exchange.elapsed_ms))
    timings = harfile.Timings(send=0, wait=elapsed, receive=0)
    data: dict[str, Any] = {
        "startedDateTime": started,
        "time": timings.send + timings.wait + timings.receive,
        "request": _request(exchange).asdict(),
        "response": _response(exchange).asdict(),
        "cache": {},
        "timings": timings.asdict(),
        "_check": check_id,
        "_requirements": list(requirements),
        "_status": status,
        **extra,
    }
    if exchange.error:
        data["_error"] = exchange.error
    return data


def _requirements(check: CheckResult, index: int) -> list[str]:
    """The requirements the assertions judging this exchange name; else the check's."""
    named = dict.fromkeys(
        rid for a in check.assertions if a.exchange == index for rid in a.requirement_ids
    )
    return list(named or check.all_requirement_ids())


def check_entries(
    check: CheckResult, started: str, seen: set[int] | None = None
) -> Iterator[dict[str, Any]]:
    """The entries of ``check``'s evidence; those in ``seen`` (by identity) are left out, and
    the rest added to it: an exchange two checks judged (the idle check's create, which the
    completed-run fixture took) was sent once, so the HAR has it once."""
    for index, exchange in enumerate(check.evidence):
        if seen is not None:
            if id(exchange) in seen:
                continue
            seen.add(id(exchange))
        yield entry(exchange, started, check.id, _requirements(check, index), check.status.label)


class FuzzSpool:
    """Every exchange of the fuzz stage with its verdicts, one HAR entry per line of an anonymous
    temporary file (gone when the spool is closed or collected). Thread-safe."""

    def __init__(
        self, levels: Mapping[str, str] | None = None, checks: Collection[str] | None = None
    ) -> None:
        self.levels = dict(levels or {})
        #: Only the verdicts of these fuzz checks count (those the run selected); None: all.
        self.checks = None if checks is None else frozenset(checks)
        self.count = 0
        # It lives as long as the spool (close(), or the result's collection, ends it).
        self._file: IO[str] = tempfile.TemporaryFile(  # noqa: SIM115
            "w+", encoding="utf-8", errors="replace"
        )
        self._lock = threading.Lock()

    def add(
        self, exchange: Exchange, verdicts: Sequence[tuple[str, str, bool]], context: str
    ) -> Status:
        """Record one exchange (already redacted) with its ``(check, requirement, passed)``;
        return the status its entry got."""
        if self.checks is not None:
            verdicts = [v for v in verdicts if v[0] in self.checks]
        failed = [(c, r) for c, r, passed in verdicts if not passed]
        checks = list(dict.fromkeys(c for c, _, _ in verdicts))
        if failed:
            must = any(self.levels.get(r, "MUST") == "MUST" for _, r in failed)
            status = Status.FAIL if must else Status.WARN
            check_id = failed[0][0]
        else:
            status = Status.PASS if verdicts else Status.SKIP
            check_id = checks[0] if checks else "fuzz"
        # The exchange ended about now: its start is its duration ago.
        started = datetime.now(UTC) - timedelta(milliseconds=max(0.0, exchange.elapsed_ms))
        data = entry(
            exchange,
            started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            check_id,
            list(dict.fromkeys(r for _, r, _ in verdicts)),
            status.label,
            _checks=checks,
            _fuzz=context,
        )
        line = json.dumps(data, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(line)
            self.count += 1
        return status

    def entries(self) -> Iterator[str]:
        """The entries, each a line of JSON (without its newline), read one at a time: call it
        once the stage is over."""
        with self._lock:
            self._file.flush()
            end = self._file.tell()
        self._file.seek(0)
        try:
            while self._file.tell() < end:
                line = self._file.readline()
                if not line:
                    break
                yield line.rstrip("\n")
        finally:
            self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()


#: Run ID -> the fuzz stage's spool, for as long as the run's result lives.
_SPOOLS: dict[str, FuzzSpool] = {}


def attach_spool(result: RunResult, spool: FuzzSpool) -> None:
    """Keep ``spool`` with ``result`` (write_reports finds it); closed when result is collected."""
    _SPOOLS[result.run_id] = spool
    weakref.finalize(result, _drop_spool, result.run_id)


def _drop_spool(run_id: str) -> None:
    spool = _SPOOLS.pop(run_id, None)
    if spool is not None:
        spool.close()


def spool_of(result: RunResult) -> FuzzSpool | None:
    return _SPOOLS.get(result.run_id)


def _started(result: RunResult) -> str:
    # The result keeps no clock time per exchange: their entries start at the run's start.
    return result.started_at or "1970-01-01T00:00:00Z"


def _log(result: RunResult) -> dict[str, Any]:
    return {
        "version": harfile.HAR_VERSION,
        "creator": {"name": "jr-conformance", "version": __version__},
        "comment": f"run {result.run_id} against {result.target.base_url}",
        "pages": [],
    }


def har_chunks(result: RunResult) -> Iterator[str]:
    """The HAR document in pieces, entries one at a time (the fuzz stage's from its spool)."""
    spool = spool_of(result)
    log = json.dumps(_log(result), ensure_ascii=False)
    yield '{"log": ' + log[:-1] + ', "entries": ['
    first = True
    started = _started(result)
    spooled = False
    seen: set[int] = set()
    for check in result.checks:
        if check.kind == "fuzz" and spool is not None:
            if not spooled:  # where the fuzz stage ran: its whole traffic, once
                spooled = True
                for line in spool.entries():
                    yield ("\n" if first else ",\n") + line
                    first = False
            continue
        for data in check_entries(check, started, seen):
            yield ("\n" if first else ",\n") + json.dumps(data, ensure_ascii=False)
            first = False
    if spool is not None and not spooled:
        for line in spool.entries():
            yield ("\n" if first else ",\n") + line
            first = False
    yield "\n]}}\n"


def har_dict(result: RunResult) -> dict[str, Any]:
    data: dict[str, Any] = json.loads("".join(har_chunks(result)))
    return data


def render_har(result: RunResult, summary: Summary | None = None) -> str:
    return "".join(har_chunks(result))
