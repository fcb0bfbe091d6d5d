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

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from .. import _lifecycle as lifecycle
from .. import _paths as paths
from .._envelope import (
    RULE_RESTRICTION,
    is_not_found,
)
from . import _stateless as stateless
from ._observe import Observation
from ._registry import (
    AVAILABILITY,
    CANCEL_RULE,
    DELETE_RULE,
    LIFECYCLE,
    Finding,
    finding,
)

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
        yield from stateless.envelope(obs)
        yield from stateless.error_status(obs)
        yield from stateless.track_id(obs)
        yield from stateless.request_id(obs)
        yield from stateless.numbers(obs)
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
