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
from .._errors import CATEGORY_STATUS, error_style, parse_code, statuses_for
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


#: The suite's own checks, in report order.
CUSTOM_CHECKS: Final[tuple[FuzzCheck, ...]] = (
    FuzzCheck(
        "fuzz.error-envelope",
        "Every answer is a JSON envelope; every failure has success false, a processId and "
        "reasons with 8-digit codes",
        "errors",
        ("JR-ERRORS-001", "JR-ERRORS-002", "JR-ERRORS-003", "JR-ERRORS-004", "JR-ERRORS-007"),
    ),
    FuzzCheck(
        "fuzz.error-status",
        "HTTP statuses follow the version rules: an error has its category's status under "
        "Zuora-Version 2024-05-20 and HTTP 200 under a legacy version; a success is HTTP 200",
        "versions",
        ("JR-ERRORS-005", "JR-VERSIONS-001", "JR-VERSIONS-003", "JR-VERSIONS-005", "JR-AUTH-002"),
    ),
    FuzzCheck(
        "fuzz.track-id-echo",
        "The Zuora-Track-Id sent is echoed unchanged",
        "headers",
        ("JR-HEADERS-001",),
    ),
    FuzzCheck(
        "fuzz.request-id",
        "Every answer carries a 36-character Zuora-Request-Id",
        "headers",
        ("JR-HEADERS-007",),
    ),
    FuzzCheck(
        "fuzz.number-format",
        "Journal run and entry numbers are JR-/JE- and eight digits",
        "create",
        ("JR-CREATE-002", "JR-RETRIEVE-002", "JR-ENTRIES-006"),
    ),
    FuzzCheck(
        "fuzz.lifecycle",
        "Run statuses are the documented seven and only move along the documented lifecycle",
        "retrieve",
        ("JR-RETRIEVE-003", "JR-RETRIEVE-006", "JR-CANCEL-004"),
    ),
    FuzzCheck(
        "fuzz.cancel-rule",
        "A cancel is accepted only from Pending, Error or Completed",
        "cancel",
        ("JR-CANCEL-001", "JR-CANCEL-002"),
    ),
    FuzzCheck(
        "fuzz.delete-rule",
        "A delete is accepted only from Cancelled",
        "delete",
        ("JR-DELETE-001", "JR-DELETE-002"),
    ),
    FuzzCheck(
        "fuzz.resource-availability",
        "A created run stays retrievable (whatever its status) until an accepted delete, and is "
        "then DeleteInprogress or not found",
        "retrieve",
        ("JR-RETRIEVE-001", "JR-DELETE-003"),
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


#: A run that is gone (deleted): not a status, the absence of one.
GONE: Final = "(gone)"

_RUN_NUMBER = re.compile(r"^JR-\d{8}$")
_ENTRY_NUMBER = re.compile(r"^JE-\d{8}$")

_CREATE = "POST_JournalRun"
_RETRIEVE = "GET_JournalRun"
_CANCEL = "PUT_JournalRun"
_DELETE = "DELETE_JournalRun"
_LIST_ENTRIES = "GET_AllSummaryJournalEntries"
_CREATE_ENTRY = "POST_SummaryJournalEntry"
_RETRIEVE_ENTRY = "GET_SummaryJournalEntry"
_DELETE_ENTRY = "DELETE_SummaryJournalEntry"
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
        if obs.operation_id == _CANCEL:
            yield from self._cancel(run, obs)
        elif obs.operation_id == _DELETE:
            yield from self._delete(run, obs)
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
            self.entries.discard(str(obs.path_parameters.get("je-number")))

    def _retrieved(self, obs: Observation) -> Iterator[Finding]:
        status = obs.body.get("status") if obs.succeeded else None
        if obs.succeeded:
            yield Finding(
                "fuzz.lifecycle",
                "JR-RETRIEVE-003",
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
            yield Finding(
                "fuzz.resource-availability",
                "JR-DELETE-003",
                status in run.possible,
                f"After an accepted delete, {run.number} is DeleteInprogress or not found",
                expected=sorted(run.possible),
                actual=status,
            )
        elif not isinstance(status, str) or not lifecycle.is_status(status):
            return  # judged above (JR-RETRIEVE-003); nothing to say about the move
        else:
            yield Finding(
                "fuzz.resource-availability",
                "JR-RETRIEVE-001",
                True,
                f"{run.number}, created by the fuzzer, can be retrieved",
                actual=status,
            )
            requirement = "JR-CANCEL-004" if run.because == "cancelled" else "JR-RETRIEVE-006"
            yield Finding(
                "fuzz.lifecycle",
                requirement,
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
            yield Finding(
                "fuzz.resource-availability",
                "JR-DELETE-003",
                True,
                f"After an accepted delete, {run.number} is DeleteInprogress or not found",
                actual=obs.status,
            )
            run.possible, run.because = frozenset({GONE}), "observed"
            return
        yield Finding(
            "fuzz.resource-availability",
            "JR-RETRIEVE-001",
            False,
            f"{run.number}, created by the fuzzer and not deleted, answers not-found",
            expected=sorted(run.possible),
            actual=f"HTTP {obs.status}, categories {obs.categories()}",
        )

    def _cancel(self, run: RunModel, obs: Observation) -> Iterator[Finding]:
        cancellable = run.possible & lifecycle.CANCELLABLE
        if obs.accepted:
            yield _answered_200(
                obs, "fuzz.cancel-rule", "JR-CANCEL-001", f"A cancel of {run.number}"
            )
            yield Finding(
                "fuzz.cancel-rule",
                "JR-CANCEL-002",
                bool(cancellable),
                f"A cancel of {run.number} is accepted only from Pending, Error or Completed",
                expected=sorted(lifecycle.CANCELLABLE),
                actual=f"accepted while {_possibly(run)}",
            )
            run.possible = lifecycle.settles_into(lifecycle.CANCEL_IN_PROGRESS)
            run.because = "cancelled"
            return
        if _not_found(obs):
            yield from self._availability(run, obs)
            return
        if not _refused_by_rule(obs):
            return
        # Refused: right only if the run may have been outside the cancellable statuses.
        yield Finding(
            "fuzz.cancel-rule",
            "JR-CANCEL-001",
            not run.possible <= lifecycle.CANCELLABLE,
            f"A cancel of {run.number} is accepted from Pending, Error or Completed",
            expected="success true",
            actual=f"refused while {_possibly(run)}",
        )

    def _delete(self, run: RunModel, obs: Observation) -> Iterator[Finding]:
        deletable = run.possible & lifecycle.DELETABLE
        if obs.accepted:
            yield _answered_200(
                obs, "fuzz.delete-rule", "JR-DELETE-001", f"A delete of {run.number}"
            )
            yield Finding(
                "fuzz.delete-rule",
                "JR-DELETE-002",
                bool(deletable),
                f"A delete of {run.number} is accepted only from Cancelled",
                expected=sorted(lifecycle.DELETABLE),
                actual=f"accepted while {_possibly(run)}",
            )
            run.possible = frozenset({lifecycle.DELETE_IN_PROGRESS, GONE})
            run.because = "deleted"
            return
        if _not_found(obs):
            yield from self._availability(run, obs)
            return
        if not _refused_by_rule(obs):
            return
        yield Finding(
            "fuzz.delete-rule",
            "JR-DELETE-001",
            not run.possible <= lifecycle.DELETABLE,
            f"A delete of {run.number} is accepted from Cancelled",
            expected="success true",
            actual=f"refused while {_possibly(run)}",
        )


def _answered_200(obs: Observation, check: str, requirement: str, what: str) -> Finding:
    """An accepted cancel or delete answers HTTP 200 with success true, not 204."""
    return Finding(
        check,
        requirement,
        obs.status == 200 and obs.body.get("success") is True,
        f"{what} is accepted with HTTP 200 and success true (not 204)",
        expected="HTTP 200, success true",
        actual=f"HTTP {obs.status}, success {obs.body.get('success')!r}",
    )


def _settles_into(status: str) -> frozenset[str]:
    """The statuses a run observed in ``status`` may show later, with GONE once it is deleting."""
    later = lifecycle.settles_into(status)
    return later | {GONE} if status == lifecycle.DELETE_IN_PROGRESS else later


def _refused_by_rule(obs: Observation) -> bool:
    """A refusal for the run's status (category 30), not for the request's own faults."""
    return obs.refused and 30 in obs.categories()


def _not_found(obs: Observation) -> bool:
    return obs.refused and (40 in obs.categories() or obs.status == 404)


def _possibly(run: RunModel) -> str:
    statuses = sorted(run.possible)
    if len(statuses) == 1:
        return statuses[0]
    return "one of " + ", ".join(statuses)


# -- stateless checks ----------------------------------------------------------------------------


def _envelope(obs: Observation) -> Iterator[Finding]:
    check = "fuzz.error-envelope"
    assert obs.status is not None
    if obs.method == "HEAD":
        return  # a HEAD answer has no body by definition
    data = obs.json
    if obs.status >= 500:
        reasons = data.get("reasons") if isinstance(data, dict) else None
        yield Finding(
            check,
            "JR-ERRORS-007",
            isinstance(reasons, list) and bool(reasons),
            "A 5xx answer carries at least a non-empty reasons array",
            expected="a JSON object with reasons",
            actual=_snippet(obs),
        )
        return
    if obs.status == 401 and not (isinstance(data, dict) and data.get("reasons")):
        return  # a gateway's refusal may have any body (JR-AUTH-002, JR-ERRORS-001 decisions)
    if not isinstance(data, dict):
        yield Finding(
            check,
            "JR-ERRORS-001",
            False,
            "The answer is a JSON object with a boolean success",
            expected="a JSON object",
            actual=_snippet(obs),
        )
        return
    success = data.get("success")
    failure = obs.status >= 400 or success is False
    yield Finding(
        check,
        "JR-ERRORS-001",
        success is False if failure else success is True,
        "success is a boolean, false on every failure and true otherwise",
        expected=not failure,
        actual=success,
    )
    if not failure:
        yield Finding(
            check,
            "JR-ERRORS-002",
            "reasons" not in data,
            "A successful answer carries no reasons",
            expected="no reasons",
            actual=data.get("reasons"),
        )
        yield Finding(
            check,
            "JR-ERRORS-003",
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
    yield Finding(
        check,
        "JR-ERRORS-002",
        well_formed,
        "A failure carries reasons: a non-empty array of {code, message}",
        expected="reasons: [{code, message}, ...]",
        actual=reasons,
    )
    # A failure may omit processId; when present it is a string (JR-ERRORS-003's decision).
    if "processId" in data:
        process_id = data["processId"]
        yield Finding(
            check,
            "JR-ERRORS-003",
            isinstance(process_id, str) and bool(process_id.strip()),
            "A failure's processId, when present, is a non-empty string",
            expected="a non-empty string",
            actual=process_id,
        )
    codes = obs.reason_codes()
    if codes:
        bad = [code for code in codes if parse_code(code) is None]
        yield Finding(
            check,
            "JR-ERRORS-004",
            not bad,
            "Every reason code has eight digits (resource code and category)",
            expected="8 digits, e.g. 50000040",
            actual=bad or codes,
        )


def _error_status(obs: Observation) -> Iterator[Finding]:
    check = "fuzz.error-status"
    assert obs.status is not None
    if obs.accepted:
        yield Finding(
            check,
            "JR-VERSIONS-005",
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
        yield Finding(
            check,
            "JR-AUTH-002",
            11 in categories,
            "An authentication failure carries category 11",
            expected=11,
            actual=categories,
        )
    if categories:
        unknown = sorted({c for c in categories if c not in CATEGORY_STATUS})
        yield Finding(
            check,
            "JR-ERRORS-005",
            not unknown,
            "Every code's category is a documented one",
            expected=sorted(CATEGORY_STATUS),
            actual=unknown or categories,
        )
    version = obs.request_header("zuora-version")
    style = error_style(version)
    if style == "default":
        return  # the tenant's default applies, which may be either style
    requirement = "JR-VERSIONS-003" if style == "modern" else "JR-VERSIONS-001"
    known = [c for c in categories if c in CATEGORY_STATUS]
    if not known:
        if style == "modern" and obs.status < 400:
            yield Finding(
                check,
                requirement,
                False,
                f"Under Zuora-Version {version} an error is not answered HTTP {obs.status}",
                expected="a 4xx or 5xx status",
                actual=obs.status,
            )
        return
    allowed = sorted(statuses_for(known, style))
    yield Finding(
        check,
        requirement,
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
    yield Finding(
        "fuzz.track-id-echo",
        "JR-HEADERS-001",
        echoed == sent,
        "The Zuora-Track-Id sent comes back unchanged",
        expected=sent,
        actual=echoed,
    )


def _valid_track_id(value: str) -> bool:
    return len(value) <= 64 and all(0x20 <= ord(c) < 0x7F and c not in ":;\"'" for c in value)


def _request_id(obs: Observation) -> Iterator[Finding]:
    value = obs.response_header("zuora-request-id")
    yield Finding(
        "fuzz.request-id",
        "JR-HEADERS-007",
        value is not None and len(value) == 36,
        "The answer carries a Zuora-Request-Id of 36 characters",
        expected="36 characters",
        actual=value,
    )


def _numbers(obs: Observation) -> Iterator[Finding]:
    if not obs.succeeded:
        return
    check = "fuzz.number-format"
    body = obs.body
    if obs.operation_id == _CREATE:
        yield _number(check, "JR-CREATE-002", "journalRunNumber", body, _RUN_NUMBER)
    elif obs.operation_id == _RETRIEVE:
        finding = _number(check, "JR-RETRIEVE-002", "number", body, _RUN_NUMBER)
        if finding.passed and obs.run_number is not None:
            finding = Finding(
                check,
                "JR-RETRIEVE-002",
                body["number"] == obs.run_number,
                "A retrieved run's number is the number asked for",
                expected=obs.run_number,
                actual=body["number"],
            )
        yield finding
    elif obs.operation_id == _CREATE_ENTRY:
        yield _number(check, "JR-ENTRIES-006", "journalEntryNumber", body, _ENTRY_NUMBER)
    elif obs.operation_id == _RETRIEVE_ENTRY:
        yield _number(check, "JR-ENTRIES-006", "number", body, _ENTRY_NUMBER)
    elif obs.operation_id == _LIST_ENTRIES:
        entries = body.get("journalEntries")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                yield _number(check, "JR-ENTRIES-006", "number", entry, _ENTRY_NUMBER)


def _number(
    check: str, requirement: str, name: str, body: dict[str, Any], pattern: re.Pattern[str]
) -> Finding:
    value = body.get(name)
    prefix = pattern.pattern[1:3]
    return Finding(
        check,
        requirement,
        isinstance(value, str) and bool(pattern.match(value)),
        f"{name} is {prefix}- and eight digits",
        expected=f"{prefix}-00000001",
        actual=value,
    )


def _snippet(obs: Observation, limit: int = 200) -> str:
    text = obs.response_body[:limit].decode("utf-8", errors="replace")
    more = "…" if len(obs.response_body) > limit else ""
    return f"HTTP {obs.status}, body {text!r}{more}" if text else f"HTTP {obs.status}, empty body"
