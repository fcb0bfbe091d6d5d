"""Judging what schemathesis sent and got back: its event stream, read in order, into one tally
per fuzz check (the suite's rules and schemathesis's built-in checks)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemathesis.core.result import Ok
from schemathesis.engine import events

from .. import _paths as paths
from .._exceptions import SetupError
from .._http import transient_answer
from .._redact import Redactor
from .._results import Assertion, CheckResult, Exchange
from . import _builtins
from ._budget import CreateBudget
from ._checks import Rules
from ._observe import Observation, from_schemathesis
from ._options import Stop
from ._registry import CUSTOM_CHECKS, FuzzCheck
from ._tally import Tally


@dataclass
class Sent:
    """One request as sent, for comparing runs: method, path with query, and body."""

    method: str
    target: str
    body: str | None


#: One judgement of an exchange: ``(fuzz check id, requirement ID, passed)``.
Verdict = tuple[str, str, bool]
#: ``record(exchange, verdicts, context)``: every exchange the stage recorded (schemathesis's and
#: the follow-through's), redacted, once all its verdicts are in; ``context`` names the pass
#: and phase. For evidence of everything sent (``exchanges.har``), not only of the violations.
Recorder = Callable[[Exchange, list[Verdict], str], None]


@dataclass
class Judgement:
    """A judge's tallies and counts without its callbacks, locks and lifecycle model: what passes
    judged in another process bring back (:meth:`Judge.absorb`)."""

    tallies: dict[str, Tally]
    sent: list[Sent]
    engine_errors: list[str]
    probes: int
    followed: int
    network_errors: int
    unavailable: int
    authenticated: int
    auth_refused: int
    auth_status: int
    guarded: list[str]


class Judge:
    """Reads schemathesis's events, in order, into the tallies of every fuzz check."""

    def __init__(
        self,
        redactor: Redactor,
        identity: str | None,
        record: Recorder | None = None,
    ) -> None:
        self.redactor = redactor
        self.record = record
        #: Observation index -> its verdicts so far (while ``record`` waits for them).
        self.verdicts: dict[int, list[Verdict]] = {}
        #: Requests schemathesis sent to probe the server's capabilities (not recorded).
        self.probes = 0
        #: Exchanges of the follow-through judged so far.
        self.followed = 0
        self.rules = Rules(identity)
        #: Passes that create nothing run side by side; their events are judged one at a time.
        self._judging = threading.Lock()
        self.tallies: dict[str, Tally] = {
            check.id: Tally(check) for check in (*CUSTOM_CHECKS, *_builtins.BUILTIN_GROUPS)
        }
        if record is not None:
            for tally in self.tallies.values():
                tally.listener = self._verdict
        self.sent: list[Sent] = []
        self.engine_errors: list[str] = []
        self.network_errors = 0
        #: Transient answers (502/503/504, 500 category 61): judged by no check.
        self.unavailable = 0
        self.guarded: list[str] = []
        self.budget: CreateBudget | None = None
        self.authenticated = 0
        self.auth_refused = 0
        self.auth_status = 401

    def judgement(self) -> Judgement:
        return Judgement(
            tallies=self.tallies,
            sent=self.sent,
            engine_errors=self.engine_errors,
            probes=self.probes,
            followed=self.followed,
            network_errors=self.network_errors,
            unavailable=self.unavailable,
            authenticated=self.authenticated,
            auth_refused=self.auth_refused,
            auth_status=self.auth_status,
            guarded=self.guarded,
        )

    def absorb(self, other: Judgement) -> None:
        """Add what passes on another tenant judged (their own lifecycle model's verdicts) to
        this judge's, after its own: one tally per check, one ``sent`` sequence."""
        for check_id, tally in other.tallies.items():
            self.tallies[check_id].merge(tally)
        self.sent.extend(other.sent)
        self.engine_errors.extend(other.engine_errors)
        self.probes += other.probes
        self.followed += other.followed
        self.network_errors += other.network_errors
        self.unavailable += other.unavailable
        self.authenticated += other.authenticated
        self.auth_refused += other.auth_refused
        if other.auth_refused:
            self.auth_status = other.auth_status
        self.guarded = sorted({*self.guarded, *other.guarded})

    def consume(self, pass_name: str, stream: Any, stop: Stop | None = None) -> str:
        """Judge one schemathesis run; returns why it stopped. ``stop`` set: the engine is
        told to finish (its next event is the last)."""
        stop_reason = "completed"
        for event in stream:
            if stop is not None and stop.is_set():
                stream.stop()
                if isinstance(event, events.Interrupted):  # what telling it does: not a Ctrl-C
                    stop_reason = "interrupted"
                    continue
            with self._judging:
                stop_reason = self._event(pass_name, event, stop_reason)
        return stop_reason

    def _event(self, pass_name: str, event: Any, stop_reason: str) -> str:
        """Judge one event of a schemathesis run; returns why it stopped, so far."""
        if isinstance(event, events.PhaseFinished) and isinstance(event.payload, Ok):
            probed = getattr(event.payload.ok(), "probes", None) or ()
            self.probes += sum(1 for run in probed if run.request is not None)
        elif isinstance(event, events.ScenarioFinished):
            self._scenario(pass_name, event)
        elif isinstance(event, events.NonFatalError):
            if self._withheld(event):
                return stop_reason
            # The detail says why (a body cut at a cap, say), where schemathesis has one.
            detail = "; ".join(str(x) for x in getattr(event.info, "extras", None) or ())
            self.engine_errors.append(
                f"{pass_name} pass, {event.label}: {event.info.title}: "
                f"{self.redactor.scrub(event.info.message)}"
                + (f" ({self.redactor.scrub(detail)})" if detail else "")
            )
        elif isinstance(event, events.FatalError):
            message = self.redactor.scrub(str(event.exception))
            self.engine_errors.append(f"{pass_name} pass: schemathesis failed: {message}")
        elif isinstance(event, events.Interrupted):
            raise KeyboardInterrupt
        elif isinstance(event, events.EngineFinished):
            stop_reason = str(event.stop_reason)
        return stop_reason

    def _withheld(self, event: events.NonFatalError) -> bool:
        """Whether ``event`` is schemathesis saying its ``filter_case`` hooks let no case of the
        create through: the create budget at work, not an engine error."""
        if self.budget is None or not self.budget.withheld:
            return False
        create = "{} {}".format(*paths.OPERATIONS[paths.CREATE_RUN])
        said = f"{event.info.title} {event.info.message}"
        return event.label == create and "filter_case" in said

    def _scenario(self, pass_name: str, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        phase = str(event.phase.value) if event.phase is not None else "unknown"
        observations: dict[str, Observation] = {}
        for case_id, interaction in recorder.interactions.items():
            node = recorder.cases.get(case_id)
            if node is None:
                continue
            obs = from_schemathesis(
                index=len(self.sent),
                pass_name=pass_name,
                phase=phase,
                case=node.value,
                request=interaction.request,
                response=interaction.response,
            )
            observations[case_id] = obs
            self._record(obs)
        for case_id, check_nodes in recorder.checks.items():
            judged = observations.get(case_id)
            if judged is None:
                continue
            for check_node in check_nodes:
                self._builtin(check_node, judged, observations)
        for obs in observations.values():
            self._recorded(obs)

    def _verdict(self, check_id: str, requirement_id: str, passed: bool, obs: Observation) -> None:
        self.verdicts.setdefault(obs.index, []).append((check_id, requirement_id, passed))

    def _recorded(self, obs: Observation) -> None:
        """Hand ``obs`` and its verdicts to ``record`` (then forget the verdicts)."""
        verdicts = self.verdicts.pop(obs.index, [])
        if self.record is not None:
            context = (
                obs.phase if obs.phase == obs.pass_name else f"{obs.pass_name} pass, {obs.phase}"
            )
            self.record(obs.exchange(self.redactor), verdicts, context)

    def _record(self, obs: Observation) -> None:
        body = obs.request_body.decode("utf-8", errors="replace") if obs.request_body else None
        path = obs.url.split("://", 1)[-1]
        self.sent.append(Sent(obs.method, path[path.find("/") :] if "/" in path else "/", body))
        self._judge(obs)

    def follow(self, obs: Observation) -> None:
        """Judge an exchange of the follow-through (not schemathesis's: not in ``sent``)."""
        obs = dataclasses.replace(obs, index=len(self.sent) + self.followed)
        self._judge(obs)
        self._recorded(obs)
        self.followed += 1

    def _judge(self, obs: Observation) -> None:
        if obs.status is None:
            self.network_errors += 1
            return
        if _transient(obs):  # a gateway's answer says nothing about the API
            self.unavailable += 1
            return
        if obs.request_header("authorization") is not None:
            self.authenticated += 1
            if obs.status in (401, 403):
                self.auth_refused += 1
                self.auth_status = obs.status
        for finding in self.rules.judge(obs):
            self.tallies[finding.check_id].add(
                finding.requirement_id,
                finding.passed,
                obs,
                description=finding.description,
                expected=finding.expected,
                actual=finding.actual,
            )

    def _builtin(self, node: Any, obs: Observation, observations: dict[str, Observation]) -> None:
        group = _builtins.group_of(node.name)
        if group is None or str(node.status.value) not in ("success", "failure"):
            return
        if node.failure_info is None:
            requirement = _builtins.requirement_for(node.name, obs.operation_id, obs.refused)
            self.tallies[group.id].add(requirement, True, obs, description=node.name)
            return
        failure = node.failure_info.failure
        # Blame the failing field's requirement (a reason code's format, say), as the scenarios do.
        requirement = _builtins.requirement_for(
            node.name, obs.operation_id, obs.refused, _builtins.failure_path(failure)
        )
        # A check may judge a request it sent itself (ignored_auth's probe without credentials).
        culprit = observations.get(failure.case_id or "", obs)
        if _transient(culprit):
            return  # counted as unavailable when it was recorded, judged by no one
        self.tallies[group.id].add(
            requirement,
            False,
            culprit,
            description=f"schemathesis {node.name}: {failure.title}",
            actual=f"HTTP {culprit.status}; {_last_line(failure.message)}",
            detail=failure.message,
            dedupe=f"{node.name}|{culprit.operation_id}|{_last_line(failure.message)}",
        )

    def raise_if_unauthorised(self) -> None:
        if self.authenticated and self.auth_refused == self.authenticated:
            raise SetupError(
                f"every answer to an authenticated request was HTTP {self.auth_status}: the "
                "bearer token was refused; check --token / JR_TOKEN"
            )
        if self.network_errors and not self.authenticated:
            raise SetupError("no request of the fuzz stage got an answer (network errors only)")

    def results(self, wall_s: float) -> list[CheckResult]:
        checks = [tally.result(self.redactor, wall_s) for tally in self.tallies.values()]
        withheld = self.budget.withheld if self.budget is not None else 0
        checks.append(
            _engine_check(
                self.engine_errors, len(self.sent), self.guarded, self.unavailable, withheld
            )
        )
        return checks


#: schemathesis's own health: an operation it could not test gets no verdict from any check.
ENGINE_CHECK = FuzzCheck(
    "fuzz.engine",
    "schemathesis tested every operation without an engine error",
    "errors",
    (),
)


def _engine_check(
    errors: list[str],
    requests: int,
    guarded: list[str],
    unavailable: int = 0,
    withheld: int = 0,
) -> CheckResult:
    check = CheckResult(
        id=ENGINE_CHECK.id,
        title=ENGINE_CHECK.title,
        kind="fuzz",
        area=ENGINE_CHECK.area,
        tags=("fuzz", "schemathesis"),
    )
    notes = []
    if guarded:
        notes.append(f"left alone, as existing and not created by this run: {', '.join(guarded)}")
    if unavailable:
        notes.append(
            f"{unavailable} answer(s) were transient (502/503/504 or 500 category 61): the "
            "target was unavailable, and no check judged them"
        )
    if withheld:
        notes.append(
            f"{withheld} valid create(s) of a journal run not sent: the stage's budget of runs "
            "on a shared tenant was spent"
        )
    if errors:
        shown = "\n".join(errors[:10])
        more = f"\n… and {len(errors) - 10} more" if len(errors) > 10 else ""
        check.error(f"schemathesis could not test everything:\n{shown}{more}")
        return check
    check.record(
        Assertion(
            description="schemathesis reported no error for any operation or phase",
            requirement_ids=(),
            passed=True,
            actual=f"{requests} requests, no engine error",
            message="; ".join(notes),
        )
    )
    check.settle()
    return check


def _transient(obs: Observation) -> bool:
    return transient_answer(obs.status, lambda: obs.json)


def _last_line(text: str) -> str:
    """The most specific line of a schemathesis failure message (it ends with the detail)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
