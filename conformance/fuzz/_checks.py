"""The Journal Runs rules the fuzzer judges every exchange by, each tied to requirement IDs.

schemathesis knows the spec; it does not know that errors come in an envelope with 8-digit codes,
that their HTTP status depends on ``Zuora-Version``, or that a journal run is created
asynchronously and moves along a lifecycle. :class:`Rules` does: it reads the fuzzer's exchanges
in the order they happened and yields one :class:`Finding` per thing it judged.

The lifecycle model is per run and knows who moves a run: the server moves it on its own
(``Pending`` -> ``Processing`` -> ``Completed``/``Error``, ``CancelInprogress`` -> ``Cancelled``,
``DeleteInprogress`` -> gone), while only an accepted cancel or delete moves it into
``CancelInprogress`` or ``DeleteInprogress``. The fuzzer owns its tenant, so between two of its
own exchanges a run can only have made automatic moves. That is what lets asynchronous creation
pass without false failures, where schemathesis's ``ensure_resource_availability`` and
``use_after_free`` assume a created resource is at once readable in its final state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from .. import _lifecycle as lifecycle
from .. import _paths as paths
from .._catalogue import default_blame
from .._envelope import (
    CATEGORY_STATUS,
    RULE_RESTRICTION,
    error_style,
    has_reasons,
    is_not_found,
    parse_code,
    statuses_for,
)
from ._observe import Observation


@dataclass(frozen=True)
class FuzzCheck:
    """One check of the fuzz stage: it becomes one CheckResult (``kind="fuzz"``)."""

    id: str
    title: str
    area: str
    requirement_ids: tuple[str, ...]
    #: The schemathesis built-in checks this one reports (empty for the suite's own checks).
    builtins: tuple[str, ...] = ()


#: Which requirement each check reports and each finding fails: the catalogue says.
BLAME: Final = default_blame()


def fuzz_check(check_id: str, title: str, area: str, builtins: tuple[str, ...] = ()) -> FuzzCheck:
    """A check, with the requirements the catalogue's ``blame.checks`` gives it."""
    return FuzzCheck(check_id, title, area, BLAME.check(check_id), builtins)


ENVELOPE = "fuzz.error-envelope"
ERROR_STATUS = "fuzz.error-status"
TRACK_ID = "fuzz.track-id-echo"
REQUEST_ID = "fuzz.request-id"
NUMBERS = "fuzz.number-format"
LIFECYCLE = "fuzz.lifecycle"
CANCEL_RULE = "fuzz.cancel-rule"
DELETE_RULE = "fuzz.delete-rule"
AVAILABILITY = "fuzz.resource-availability"

#: The suite's own checks, in report order.
CUSTOM_CHECKS: Final[tuple[FuzzCheck, ...]] = (
    fuzz_check(
        ENVELOPE,
        "Every answer is a JSON envelope; every failure has success false, a processId and "
        "reasons with 8-digit codes",
        "errors",
    ),
    fuzz_check(
        ERROR_STATUS,
        "HTTP statuses follow the version rules: an error has its category's status under "
        "Zuora-Version 2024-05-20 and HTTP 200 under a legacy version; a success is HTTP 200",
        "versions",
    ),
    fuzz_check(TRACK_ID, "The Zuora-Track-Id sent is echoed unchanged", "headers"),
    fuzz_check(REQUEST_ID, "Every answer carries a 36-character Zuora-Request-Id", "headers"),
    fuzz_check(NUMBERS, "Journal run and entry numbers are JR-/JE- and eight digits", "create"),
    fuzz_check(
        LIFECYCLE,
        "Run statuses are the documented seven and only move along the documented lifecycle",
        "retrieve",
    ),
    fuzz_check(CANCEL_RULE, "A cancel is accepted only from Pending, Error or Completed", "cancel"),
    fuzz_check(DELETE_RULE, "A delete is accepted only from Cancelled", "delete"),
    fuzz_check(
        AVAILABILITY,
        "A created run stays retrievable (whatever its status) until an accepted delete, and is "
        "then DeleteInprogress or not found",
        "retrieve",
    ),
)


@dataclass(frozen=True)
class Finding:
    """One judgement of one exchange against one requirement."""

    check_id: str
    requirement_id: str
    passed: bool
    description: str
    expected: Any = None
    actual: Any = None


def finding(
    check_id: str,
    name: str,
    passed: bool,
    description: str,
    expected: Any = None,
    actual: Any = None,
) -> Finding:
    """A finding of ``check_id``, blamed on what the catalogue says its ``name`` fails."""
    return Finding(check_id, BLAME.finding(check_id, name), passed, description, expected, actual)


#: A run that is gone (deleted): not a status, the absence of one.
GONE: Final = "(gone)"

_RUN_NUMBER = paths.RUN_NUMBER
_ENTRY_NUMBER = paths.ENTRY_NUMBER

_CREATE = paths.CREATE_RUN
_RETRIEVE = paths.GET_RUN
_CANCEL = paths.CANCEL_RUN
_DELETE = paths.DELETE_RUN
_LIST_ENTRIES = paths.LIST_ENTRIES
_CREATE_ENTRY = paths.CREATE_ENTRY
_RETRIEVE_ENTRY = paths.GET_ENTRY
_DELETE_ENTRY = paths.DELETE_ENTRY
#: Operations on one run, named by the path parameter ``jr-number``.
_RUN_OPERATIONS: Final = frozenset({_RETRIEVE, _CANCEL, _DELETE, _LIST_ENTRIES})


@dataclass
class RunModel:
    """What the fuzzer knows about one run it created."""

    number: str
    #: The statuses the run may be in now, given what was observed and accepted since.
    possible: frozenset[str]
    #: What last shaped ``possible``: ``created``, ``observed``, ``cancelled`` or ``deleted``.
    because: str = "created"
    history: list[str] = field(default_factory=list)


class Rules:
    """Judges exchanges in the order they happened. Not thread-safe: feed it from one thread."""

    def __init__(self, identity: str | None = None) -> None:
        #: The Authorization value of the fuzzer's own tenant. The lifecycle model follows only
        #: requests sent with it: schemathesis's auth probes (no or another token) act, if the
        #: server serves them at all, as some other tenant.
        self.identity = identity
        self.runs: dict[str, RunModel] = {}
        #: Manual entries the fuzzer created and has not seen deleted (for cleanup).
        self.entries: set[str] = set()

    def left_behind(self) -> dict[str, str]:
        """Runs and entries the fuzzer created and did not see deleted: number -> what it may be."""
        left = {number: _possibly(self.runs[number]) for number in self.left_behind_runs()}
        left.update(dict.fromkeys(sorted(self.entries), "Created or Cancelled"))
        return left

    def left_behind_runs(self) -> list[str]:
        """Runs the fuzzer created and has not seen deleted, in the order they were created."""
        return [
            number
            for number, run in self.runs.items()
            if not run.possible <= {lifecycle.DELETE_IN_PROGRESS, GONE}
        ]

    def judge(self, obs: Observation) -> Iterator[Finding]:
        if obs.status is None:
            return
        # The fuzzer never sends Idempotency-Key (see _spec_prep.SUITE_HEADERS), so no answer is a
        # replay of an earlier one and every answer speaks for its own request.
        yield from _envelope(obs)
        yield from _error_status(obs)
        yield from _track_id(obs)
        yield from _request_id(obs)
        yield from _numbers(obs)
        yield from self._lifecycle(obs)

    # -- the per-run model -----------------------------------------------------------------------

    def _lifecycle(self, obs: Observation) -> Iterator[Finding]:
        if self.identity is not None and obs.request_header("authorization") != self.identity:
            return
        self._track_entries(obs)
        if obs.operation_id == _CREATE:
            number = obs.body.get("journalRunNumber")
            if obs.accepted and isinstance(number, str) and number not in self.runs:
                self.runs[number] = RunModel(number, lifecycle.settles_into(lifecycle.PENDING))
            return
        if obs.operation_id == _RETRIEVE:
            yield from self._retrieved(obs)
            return
        number = obs.run_number
        run = self.runs.get(number) if number is not None else None
        if run is None or obs.operation_id not in _RUN_OPERATIONS:
            return
        if obs.operation_id in _ACTIONS:
            yield from self._action(_ACTIONS[obs.operation_id], run, obs)
        elif obs.operation_id == _LIST_ENTRIES:
            yield from self._availability(run, obs)

    def _track_entries(self, obs: Observation) -> None:
        if not obs.succeeded:
            return
        if obs.operation_id == _CREATE_ENTRY:
            number = obs.body.get("journalEntryNumber")
            if isinstance(number, str):
                self.entries.add(number)
        elif obs.operation_id == _DELETE_ENTRY:
            self.entries.discard(str(obs.path_parameters.get(paths.ENTRY_PARAMETER)))

    def _retrieved(self, obs: Observation) -> Iterator[Finding]:
        status = obs.body.get("status") if obs.succeeded else None
        if obs.succeeded:
            yield finding(
                LIFECYCLE,
                "documented-status",
                lifecycle.is_status(status),
                "A run's status is one of the seven documented statuses",
                expected=list(lifecycle.STATUSES),
                actual=status,
            )
        number = obs.run_number
        run = self.runs.get(number) if number is not None else None
        if run is None:
            return
        if not obs.succeeded:
            yield from self._availability(run, obs)
            return
        if GONE in run.possible and lifecycle.DELETE_IN_PROGRESS in run.possible:
            yield finding(
                AVAILABILITY,
                "gone-after-delete",
                status in run.possible,
                f"After an accepted delete, {run.number} is DeleteInprogress or not found",
                expected=sorted(run.possible),
                actual=status,
            )
        elif not isinstance(status, str) or not lifecycle.is_status(status):
            return  # judged above (JR-RETRIEVE-003); nothing to say about the move
        else:
            yield finding(
                AVAILABILITY,
                "retrievable",
                True,
                f"{run.number}, created by the fuzzer, can be retrieved",
                actual=status,
            )
            moves = "moves-after-cancel" if run.because == "cancelled" else "moves"
            yield finding(
                LIFECYCLE,
                moves,
                status in run.possible,
                f"{run.number} moves only along the lifecycle "
                f"(seen so far: {' -> '.join(run.history) or 'created'})",
                expected=sorted(run.possible),
                actual=status,
            )
        if isinstance(status, str) and lifecycle.is_status(status):
            run.history.append(status)
            run.possible, run.because = _settles_into(status), "observed"

    def _availability(self, run: RunModel, obs: Observation) -> Iterator[Finding]:
        """A refusal naming a run the fuzzer created: not-found only once it may be gone."""
        if not _not_found(obs):
            return
        if GONE in run.possible:
            yield finding(
                AVAILABILITY,
                "gone-after-delete",
                True,
                f"After an accepted delete, {run.number} is DeleteInprogress or not found",
                actual=obs.status,
            )
            run.possible, run.because = frozenset({GONE}), "observed"
            return
        yield finding(
            AVAILABILITY,
            "retrievable",
            False,
            f"{run.number}, created by the fuzzer and not deleted, answers not-found",
            expected=sorted(run.possible),
            actual=f"HTTP {obs.status}, categories {obs.categories()}",
        )

    def _action(self, action: _Action, run: RunModel, obs: Observation) -> Iterator[Finding]:
        """A cancel or a delete of a run the fuzzer created, judged by the action's rule."""
        what = f"A {action.name} of {run.number}"
        if obs.accepted:
            yield finding(
                action.check,
                "answered-200",
                obs.status == 200 and obs.body.get("success") is True,
                f"{what} is accepted with HTTP 200 and success true (not 204)",
                expected="HTTP 200, success true",
                actual=f"HTTP {obs.status}, success {obs.body.get('success')!r}",
            )
            yield finding(
                action.check,
                "accepted-only-from",
                bool(run.possible & action.allowed_from),
                f"{what} is accepted only from {action.allowed_words}",
                expected=sorted(action.allowed_from),
                actual=f"accepted while {_possibly(run)}",
            )
            run.possible, run.because = action.after, action.because
            return
        if _not_found(obs):
            yield from self._availability(run, obs)
            return
        if not _refused_by_rule(obs):
            return
        # Refused: right only if the run may have been outside the statuses it is allowed from.
        yield finding(
            action.check,
            "accepted-from",
            not run.possible <= action.allowed_from,
            f"{what} is accepted from {action.allowed_words}",
            expected="success true",
            actual=f"refused while {_possibly(run)}",
        )


@dataclass(frozen=True)
class _Action:
    """A client's move of a run: the statuses it is accepted from and what the run may be after."""

    name: str
    check: str
    allowed_from: frozenset[str]
    allowed_words: str
    after: frozenset[str]
    because: str


_ACTIONS: Final[dict[str, _Action]] = {
    _CANCEL: _Action(
        "cancel",
        CANCEL_RULE,
        lifecycle.CANCELLABLE,
        "Pending, Error or Completed",
        lifecycle.settles_into(lifecycle.CANCEL_IN_PROGRESS),
        "cancelled",
    ),
    _DELETE: _Action(
        "delete",
        DELETE_RULE,
        lifecycle.DELETABLE,
        "Cancelled",
        frozenset({lifecycle.DELETE_IN_PROGRESS, GONE}),
        "deleted",
    ),
}


def _settles_into(status: str) -> frozenset[str]:
    """The statuses a run observed in ``status`` may show later, with GONE once it is deleting."""
    later = lifecycle.settles_into(status)
    return later | {GONE} if status == lifecycle.DELETE_IN_PROGRESS else later


def _refused_by_rule(obs: Observation) -> bool:
    """A refusal for the run's status (category 30), not for the request's own faults."""
    return obs.refused and RULE_RESTRICTION in obs.categories()


def _not_found(obs: Observation) -> bool:
    return is_not_found(obs.status, obs.json)


def _possibly(run: RunModel) -> str:
    statuses = sorted(run.possible)
    if len(statuses) == 1:
        return statuses[0]
    return "one of " + ", ".join(statuses)


# -- stateless checks ----------------------------------------------------------------------------


def _envelope(obs: Observation) -> Iterator[Finding]:
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


def _error_status(obs: Observation) -> Iterator[Finding]:
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


def _track_id(obs: Observation) -> Iterator[Finding]:
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


def _request_id(obs: Observation) -> Iterator[Finding]:
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
    _CREATE: ("journalRunNumber", _RUN_NUMBER),
    _RETRIEVE: ("number", _RUN_NUMBER),
    _CREATE_ENTRY: ("journalEntryNumber", _ENTRY_NUMBER),
    _RETRIEVE_ENTRY: ("number", _ENTRY_NUMBER),
}


def _numbers(obs: Observation) -> Iterator[Finding]:
    """A number is blamed on what the catalogue says of the operation that answered it."""
    operation = obs.operation_id
    if not obs.succeeded or operation is None:
        return
    body = obs.body
    if operation == _LIST_ENTRIES:
        entries = body.get("journalEntries")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                yield _number(operation, "number", entry, _ENTRY_NUMBER)
        return
    if operation not in _NUMBER_FIELDS:
        return
    name, pattern = _NUMBER_FIELDS[operation]
    found = _number(operation, name, body, pattern)
    if operation == _RETRIEVE and found.passed and obs.run_number is not None:
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
