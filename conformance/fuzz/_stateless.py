"""The rules that judge one exchange on its own: the error envelope, its HTTP status for the
request's version, Zuora-Track-Id and Zuora-Request-Id, and the number formats."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from .. import _paths as paths
from .._envelope import (
    CATEGORY_STATUS,
    error_style,
    has_reasons,
    parse_code,
    statuses_for,
)
from ._observe import Observation
from ._registry import (
    ENVELOPE,
    ERROR_STATUS,
    NUMBERS,
    REQUEST_ID,
    TRACK_ID,
    Finding,
    finding,
)


def envelope(obs: Observation) -> Iterator[Finding]:
    check = ENVELOPE
    assert obs.status is not None
    if obs.method == "HEAD":
        return  # a HEAD answer has no body by definition
    data = obs.json
    if obs.status >= 500:
        yield finding(
            check,
            "5xx-reasons",
            has_reasons(data),
            "A 5xx answer carries at least a non-empty reasons array",
            expected="a JSON object with reasons",
            actual=_snippet(obs),
        )
        return
    if obs.status == 401 and not (isinstance(data, dict) and data.get("reasons")):
        return  # a gateway's refusal may have any body (JR-AUTH-002, JR-ERRORS-001 decisions)
    if not isinstance(data, dict):
        yield finding(
            check,
            "success",
            False,
            "The answer is a JSON object with a boolean success",
            expected="a JSON object",
            actual=_snippet(obs),
        )
        return
    success = data.get("success")
    failure = obs.status >= 400 or success is False
    yield finding(
        check,
        "success",
        success is False if failure else success is True,
        "success is a boolean, false on every failure and true otherwise",
        expected=not failure,
        actual=success,
    )
    if not failure:
        yield finding(
            check,
            "reasons",
            "reasons" not in data,
            "A successful answer carries no reasons",
            expected="no reasons",
            actual=data.get("reasons"),
        )
        yield finding(
            check,
            "processId",
            "processId" not in data,
            "A successful answer carries no processId",
            expected="no processId",
            actual=data.get("processId"),
        )
        return
    reasons = data.get("reasons")
    well_formed = (
        isinstance(reasons, list)
        and bool(reasons)
        and all(
            isinstance(reason, dict)
            and "code" in reason
            and isinstance(reason.get("message"), str)
            and reason["message"].strip()
            for reason in reasons
        )
    )
    yield finding(
        check,
        "reasons",
        well_formed,
        "A failure carries reasons: a non-empty array of {code, message}",
        expected="reasons: [{code, message}, ...]",
        actual=reasons,
    )
    # A failure may omit processId; when present it is a string (JR-ERRORS-003's decision).
    if "processId" in data:
        process_id = data["processId"]
        yield finding(
            check,
            "processId",
            isinstance(process_id, str) and bool(process_id.strip()),
            "A failure's processId, when present, is a non-empty string",
            expected="a non-empty string",
            actual=process_id,
        )
    codes = obs.reason_codes()
    if codes:
        bad = [code for code in codes if parse_code(code) is None]
        yield finding(
            check,
            "reasons.*.code",
            not bad,
            "Every reason code has eight digits (resource code and category)",
            expected="8 digits, e.g. 50000040",
            actual=bad or codes,
        )


def error_status(obs: Observation) -> Iterator[Finding]:
    check = ERROR_STATUS
    assert obs.status is not None
    if obs.accepted:
        yield finding(
            check,
            "success-status",
            obs.status == 200,
            "A successful answer is HTTP 200 whatever the version (not 201 or 204)",
            expected=200,
            actual=obs.status,
        )
        return
    if not obs.refused:
        return
    categories = obs.categories()
    if obs.status == 401 and categories:
        yield finding(
            check,
            "auth-category",
            11 in categories,
            "An authentication failure carries category 11",
            expected=11,
            actual=categories,
        )
    if categories:
        unknown = sorted({c for c in categories if c not in CATEGORY_STATUS})
        yield finding(
            check,
            "known-category",
            not unknown,
            "Every code's category is a documented one",
            expected=sorted(CATEGORY_STATUS),
            actual=unknown or categories,
        )
    version = obs.request_header("zuora-version")
    style = error_style(version)
    if style == "default":
        return  # the tenant's default applies, which may be either style
    known = [c for c in categories if c in CATEGORY_STATUS]
    if not known:
        if style == "modern" and obs.status < 400:
            yield finding(
                check,
                style,
                False,
                f"Under Zuora-Version {version} an error is not answered HTTP {obs.status}",
                expected="a 4xx or 5xx status",
                actual=obs.status,
            )
        return
    allowed = sorted(statuses_for(known, style))
    yield finding(
        check,
        style,
        obs.status in allowed,
        f"Under Zuora-Version {version} an error of category {', '.join(map(str, known))} "
        f"comes with HTTP {' or '.join(map(str, allowed))}",
        expected=allowed,
        actual=obs.status,
    )


def track_id(obs: Observation) -> Iterator[Finding]:
    sent = obs.request_header("zuora-track-id")
    if sent is None or not _valid_track_id(sent):
        return
    echoed = obs.response_header("zuora-track-id")
    yield finding(
        TRACK_ID,
        "echo",
        echoed == sent,
        "The Zuora-Track-Id sent comes back unchanged",
        expected=sent,
        actual=echoed,
    )


def _valid_track_id(value: str) -> bool:
    return len(value) <= 64 and all(0x20 <= ord(c) < 0x7F and c not in ":;\"'" for c in value)


def request_id(obs: Observation) -> Iterator[Finding]:
    value = obs.response_header("zuora-request-id")
    yield finding(
        REQUEST_ID,
        "request-id",
        value is not None and len(value) == 36,
        "The answer carries a Zuora-Request-Id of 36 characters",
        expected="36 characters",
        actual=value,
    )


#: The field each operation's answer names its number in, and the number's pattern.
_NUMBER_FIELDS: Final = {
    paths.CREATE_RUN: ("journalRunNumber", paths.RUN_NUMBER),
    paths.GET_RUN: ("number", paths.RUN_NUMBER),
    paths.CREATE_ENTRY: ("journalEntryNumber", paths.ENTRY_NUMBER),
    paths.GET_ENTRY: ("number", paths.ENTRY_NUMBER),
}


def numbers(obs: Observation) -> Iterator[Finding]:
    """A number is blamed on what the catalogue says of the operation that answered it."""
    operation = obs.operation_id
    if not obs.succeeded or operation is None:
        return
    body = obs.body
    if operation == paths.LIST_ENTRIES:
        entries = body.get("journalEntries")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                yield _number(operation, "number", entry, paths.ENTRY_NUMBER)
        return
    if operation not in _NUMBER_FIELDS:
        return
    name, pattern = _NUMBER_FIELDS[operation]
    found = _number(operation, name, body, pattern)
    if operation == paths.GET_RUN and found.passed and obs.run_number is not None:
        found = finding(
            NUMBERS,
            operation,
            body["number"] == obs.run_number,
            "A retrieved run's number is the number asked for",
            expected=obs.run_number,
            actual=body["number"],
        )
    yield found


def _number(operation: str, name: str, body: dict[str, Any], pattern: re.Pattern[str]) -> Finding:
    value = body.get(name)
    prefix = pattern.pattern[1:3]
    return finding(
        NUMBERS,
        operation,
        isinstance(value, str) and bool(pattern.match(value)),
        f"{name} is {prefix}- and eight digits",
        expected=f"{prefix}-00000001",
        actual=value,
    )


def _snippet(obs: Observation, limit: int = 200) -> str:
    text = obs.response_body[:limit].decode("utf-8", errors="replace")
    more = "…" if len(obs.response_body) > limit else ""
    return f"HTTP {obs.status}, body {text!r}{more}" if text else f"HTTP {obs.status}, empty body"
