"""Evidence as plain text: what failed, what was expected, what came back, how to replay it.

Evidence is hostile input (a server under test wrote half of it), so every helper here bounds its
output; escaping for a format is the renderer's job.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .._results import Assertion, CheckResult, Exchange

#: How much of one body the short (JUnit) evidence shows.
SHORT_BODY_CHARS = 1000
#: At most this many exchanges per check in the short evidence.
SHORT_EXCHANGES = 3


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more chars]"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def one_line(text: str, limit: int = 200) -> str:
    """On one line, bounded, without control characters (no terminal escapes from a server)."""
    return truncate(_CONTROL.sub("\ufffd", " ".join(text.split())), limit)


def show_value(value: Any) -> str:
    """An expected or actual value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except ValueError:  # a circular structure: not from a real run, but never crash a report
        return repr(value)


def reason(check: CheckResult) -> str:
    """One line saying why a check did not pass."""
    if check.message:
        return one_line(check.message)
    failed = check.failed_assertions
    if failed:
        return one_line(failed[0].message or failed[0].description)
    return check.status.label


def blamed_requirements(check: CheckResult) -> tuple[str, ...]:
    """The requirements a check's failure speaks against: those of its failed assertions, or all."""
    named = dict.fromkeys(r for a in check.failed_assertions for r in a.requirement_ids)
    return tuple(named) or check.all_requirement_ids()


def judged_exchanges(check: CheckResult) -> list[tuple[int, Exchange]]:
    """The exchanges the failed assertions judged; else the last one (what led to an error)."""
    indexes = dict.fromkeys(
        a.exchange
        for a in check.failed_assertions
        if a.exchange is not None and 0 <= a.exchange < len(check.evidence)
    )
    if not indexes and check.evidence:
        indexes = {len(check.evidence) - 1: None}
    return [(i, check.evidence[i]) for i in indexes]


def assertion_text(assertion: Assertion) -> str:
    requirements = ", ".join(assertion.requirement_ids) or "no requirement"
    step = f" (step {assertion.step})" if assertion.step else ""
    lines = [f"- [{requirements}] {assertion.description}{step}"]
    lines.append(f"  expected: {truncate(show_value(assertion.expected), SHORT_BODY_CHARS)}")
    lines.append(f"  actual:   {truncate(show_value(assertion.actual), SHORT_BODY_CHARS)}")
    if assertion.message:
        lines.append(f"  {truncate(assertion.message, SHORT_BODY_CHARS)}")
    return "\n".join(lines)


def exchange_text(index: int, exchange: Exchange) -> str:
    outcome = (
        f"error: {exchange.error}"
        if exchange.error
        else f"{exchange.status_code} ({exchange.elapsed_ms:.0f} ms)"
    )
    lines = [f"#{index} {exchange.method} {exchange.url} -> {outcome}"]
    if exchange.response_body:
        lines.append(f"  body: {truncate(exchange.response_body, SHORT_BODY_CHARS)}")
    lines.append(f"  {truncate(exchange.curl(), SHORT_BODY_CHARS * 2)}")
    return "\n".join(lines)


def evidence_text(check: CheckResult) -> str:
    """The failed assertions, then the exchanges they judged, each with its curl."""
    parts = [reason(check)]
    failed = check.failed_assertions
    if failed:
        parts.append("Failed assertions:")
        parts.extend(assertion_text(a) for a in failed)
    exchanges = judged_exchanges(check)
    if exchanges:
        parts.append("Exchanges:")
        parts.extend(exchange_text(i, e) for i, e in exchanges[:SHORT_EXCHANGES])
        if len(exchanges) > SHORT_EXCHANGES:
            parts.append(f"… and {len(exchanges) - SHORT_EXCHANGES} more in results.json")
    return "\n".join(parts)
