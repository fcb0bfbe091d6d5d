"""Polling a step until its state holds, and the races of a state that ends by itself.

A poll is sent ``FIRST_WAIT_S + GROWTH x seconds waited`` after the previous one was sent,
capped by the step's ``max_interval_s``, so a change is seen within 50 ms + 10% of the wait
(issue 9; 40 ms leaves room for the answer's own time) and a slow server is not hammered. A
target that leaves runs in a transitional state costs one deadline (:class:`Stall`); a state the
target does not hold for the suite, seen to end, skips the scenario (:class:`TooFast`).

:class:`Polling` is mixed into the scenario runner's ``_ScenarioRun``, which provides sending,
observing, judging and recording.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from .. import _lifecycle as lifecycle
from .._http import Request, Response
from .._tenants import Tenants
from .._validate import ResponseValidator
from ._expect import NOT_JSON, Judged, Judgement, Observed, describe, find, reached
from ._model import ExpectBlock, Race, Repeat, Scenario, Step

#: The polling backoff (see the module's docstring).
FIRST_WAIT_S = 0.04
GROWTH = 0.1
#: How long a wait watches a state that an earlier wait of the run saw outlast its deadline.
STALL_GRACE_S = 1.0


class Stopped(Exception):
    """The run is being stopped: stop waiting."""


class TooFast(Exception):
    """The state a step relied on ended by itself before it could be observed or used: the
    scenario cannot judge this target (a slower one, or one with ``held_by``, could)."""

    def __init__(self, race: Race, where: str, wanted: str, seen: str) -> None:
        super().__init__(
            f"not judged: the target was too fast: at {where} it no longer showed {wanted} "
            f"(seen: {seen}); a slower server, or the capability {race.held_by}, verifies it"
        )
        self.needs = (race.held_by, "a slower server")


def describe_block(block: ExpectBlock) -> str:
    return " and ".join(describe(expectation) for expectation in block.expectations)


@dataclass(frozen=True)
class Stall:
    """A wait that ran out its deadline while the target kept showing one transitional state."""

    scenario: str
    step: str
    state: str
    deadline_s: float

    def __str__(self) -> str:
        return (
            f"scenario {self.scenario}, step {self.step!r}, saw {self.state} for its whole "
            f"{self.deadline_s:g} s deadline"
        )


def poll_state(until: ExpectBlock, observed: Observed) -> str:
    """What one poll showed, in the terms the wait is about (``Processing``, ``HTTP 404``)."""
    values: list[str] = []
    for expectation in until.expectations:
        if expectation.target == "body" and observed.body is not NOT_JSON:
            found = find(observed.body, expectation.path)
            values.append(short(found[0] if len(found) == 1 else found) if found else "<absent>")
    if not values or observed.status != 200:
        values.insert(0, f"HTTP {observed.status}")
    return " ".join(values)


def trail_of(states: list[str]) -> str:
    """``Pending → Processing x3 → Completed``: consecutive repeats counted, not repeated."""
    groups: list[list[Any]] = []
    for state in states:
        if groups and groups[-1][0] == state:
            groups[-1][1] += 1
        else:
            groups.append([state, 1])
    shown = [f"{state} x{count}" if count > 1 else state for state, count in groups]
    if len(shown) > 8:
        shown = [*shown[:3], "…", *shown[-4:]]
    return " → ".join(shown)


def short(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


class SchemaTally(Protocol):
    def add(
        self, validator: ResponseValidator, operation: str, response: Response, observed: Observed
    ) -> None: ...


class PollContext(Protocol):
    """What polling needs of the scenarios' shared context."""

    tenants: Tenants
    validator: ResponseValidator
    stop: threading.Event
    stall: Stall | None

    def stalled(self, stall: Stall) -> None: ...


class Polling:
    """Polling and races, for the scenario runner."""

    context: PollContext
    scenario: Scenario
    in_cleanup: bool

    def _send(self, request: Request, label: str) -> Response:
        raise NotImplementedError

    def _request(self, step: Step, label: str) -> Request:
        raise NotImplementedError

    def _observe(self, response: Response) -> Observed:
        raise NotImplementedError

    def _resolved(self, block: ExpectBlock) -> ExpectBlock:
        raise NotImplementedError

    def _judge(
        self, block: ExpectBlock, observed: Observed, *, resolved: bool = False
    ) -> list[Judged]:
        raise NotImplementedError

    def _record(
        self,
        requirements: tuple[str, ...],
        outcome: Judgement,
        label: str,
        step: Step,
        response: Response,
    ) -> None:
        raise NotImplementedError

    def _racing(self, step: Step) -> bool:
        """Whether the state ``step`` relies on may end by itself on this target."""
        return step.race is not None and step.race.held_by not in self.context.tenants.capabilities

    def _still(self, step: Step, race: Race, label: str) -> None:
        """After ``step`` failed: read the state again; if it ended, nothing can be judged."""
        assert race.read is not None
        response = self._send(self._request(race.read, f"{label}.read"), f"{label}.read")
        observed = self._observe(response)
        still = self._resolved(race.still)
        if not all(reached(e, observed) for e in still.expectations):
            seen = poll_state(still, observed)
            raise TooFast(race, f"step {label!r}", describe_block(still), seen)

    def _poll(
        self,
        step: Step,
        label: str,
        request: Request,
        repeat: Repeat,
        schema: SchemaTally,
        race: Race | None = None,
    ) -> tuple[Response, Observed, bool]:
        """Poll ``step`` until ``repeat.until`` holds. With a ``race`` (a state the target does
        not hold for the suite), a poll where ``race.still`` no longer holds ends the scenario
        skipped: the state ended before it could be observed."""
        started = time.monotonic()
        states: list[str] = []
        until = self._resolved(repeat.until)
        fail_fast = self._resolved(repeat.fail_fast)
        still = self._resolved(race.still) if race is not None else None
        polls = 0
        while True:
            sent = time.monotonic()
            response = self._send(request, label)
            polls += 1
            observed = self._observe(response)
            schema.add(self.context.validator, step.operation, response, observed)
            states.append(poll_state(until, observed))
            waited = time.monotonic() - started
            seen = trail_of(states)
            outcomes = self._judge(until, observed, resolved=True)
            if all(reached(e, observed) for e in until.expectations):
                for requirements, outcome in outcomes:
                    outcome.description = f"eventually {outcome.description}"
                    outcome.detail = f"after {polls} poll(s) in {waited:.1f} s (seen: {seen})"
                    self._record(requirements, outcome, label, step, response)
                return response, observed, True
            if (
                race is not None
                and still is not None
                and not all(reached(e, observed) for e in still.expectations)
            ):
                raise TooFast(race, f"step {label!r}", describe_block(still), seen)
            if fail_fast and all(reached(e, observed) for e in fail_fast.expectations):
                if self.in_cleanup:  # nothing (more) to wait for: not a problem in cleanup
                    return response, observed, False
                detail = (
                    f"stopped waiting: {describe_block(fail_fast)} after {polls} poll(s) "
                    f"in {waited:.1f} s (seen: {seen})"
                )
                self._record_wait(until, fail_fast, False, detail, label, step, response)
                return response, observed, False
            if waited >= repeat.deadline_s:
                detail = (
                    f"not within {repeat.deadline_s:g} s: {polls} poll(s), seen: {seen}; "
                    f"last: {'; '.join(o.detail for _, o in outcomes if not o.passed)}"
                )
                if observed.body_status in lifecycle.TRANSIENT:
                    self.context.stalled(
                        Stall(self.scenario.id, label, observed.body_status, repeat.deadline_s)
                    )
                self._record_wait(until, None, False, detail, label, step, response)
                return response, observed, False
            stall = self.context.stall
            if (
                stall is not None
                and waited >= STALL_GRACE_S
                and observed.body_status == stall.state
            ):
                if self.in_cleanup:
                    return response, observed, False
                detail = (
                    f"not waiting out the deadline: still {stall.state} after {polls} poll(s) "
                    f"in {waited:.1f} s (seen: {seen}), and earlier in this run a wait for the "
                    f"same state ran out ({stall})"
                )
                self._record_wait(until, None, False, detail, label, step, response)
                return response, observed, False
            # The interval runs from when the last poll was sent, not from when its answer was
            # read: a slow answer does not make the next look later.
            interval = min(repeat.max_interval_s, FIRST_WAIT_S + GROWTH * waited)
            pause = min(sent + interval - time.monotonic(), repeat.deadline_s - waited)
            if self.context.stop.wait(max(0.0, pause)):
                raise Stopped

    def _record_wait(
        self,
        until: ExpectBlock,
        fail_fast: ExpectBlock | None,
        passed: bool,
        detail: str,
        label: str,
        step: Step,
        response: Response,
    ) -> None:
        requirements: dict[str, None] = {}
        for expectation in (fail_fast or until).expectations:
            requirements.update(dict.fromkeys(expectation.requirement_ids))
        outcome = Judgement(passed, f"eventually {describe_block(until)}", None, None, detail)
        self._record(tuple(requirements), outcome, label, step, response)
