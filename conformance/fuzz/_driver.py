"""The fuzz stage: run schemathesis on the spec and judge what it sent and got back.

schemathesis generates and sends the requests and runs its built-in checks; the suite reads its
event stream, turns every recorded exchange into an :class:`~._observe.Observation` in the order
it happened, and judges it by the Journal Runs rules (:mod:`._checks`). The rules are not
registered as schemathesis checks on purpose: a registered check is global to the process (it
would also run in the benchmark's plain run, or a user's own schemathesis tests), its failures
would make Hypothesis shrink and replay (so a broken server would get a different request
sequence than a conforming one), and the lifecycle model needs one ordered stream of exchanges,
which the recorded scenarios give in the main thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from schemathesis.core.result import Ok
from schemathesis.engine import events, from_schema

from .. import _paths as paths
from .._catalogue import Catalogue
from .._exceptions import SetupError, TransportError
from .._http import Request, Session, transient_answer
from .._redact import Redactor
from .._results import Assertion, CheckResult, Exchange
from . import _builtins, _spec_prep
from ._budget import CreateBudget
from ._checks import Rules
from ._follow import follow_through
from ._guard import Guard
from ._observe import Observation, from_schemathesis
from ._options import FuzzOptions, FuzzTarget
from ._passes import Pass, load_pass, passes
from ._registry import CUSTOM_CHECKS, FuzzCheck
from ._tally import Tally
from ._threads import serial_ast_parsing
from ._transport import OWN_CREDENTIALS, suite_probes


@dataclass
class Sent:
    """One request as sent, for comparing runs: method, path with query, and body."""

    method: str
    target: str
    body: str | None


@dataclass
class FuzzResult:
    """What the fuzz stage produced: the checks, plus figures for the run's stage record."""

    checks: list[CheckResult]
    requests: int
    wall_s: float
    sent: list[Sent] = field(default_factory=list)
    #: Why schemathesis stopped, per pass (``completed``, ``max_time``, ...).
    stop_reasons: dict[str, str] = field(default_factory=dict)
    #: Journal runs and manual entries the fuzzer created and did not see deleted, with the
    #: status each may be in: what a cleanup has to cancel and delete.
    not_deleted: dict[str, str] = field(default_factory=dict)
    #: Existing numbers the fuzz stage did not create, so never cancelled, deleted or changed.
    guarded: list[str] = field(default_factory=list)
    #: Runs the follow-through deleted and saw gone: nothing left for a cleanup to do.
    gone: list[str] = field(default_factory=list)


def run_fuzz(
    catalogue: Catalogue, target: FuzzTarget, options: FuzzOptions | None = None
) -> list[CheckResult]:
    """Fuzz ``target`` from the catalogue's spec; one CheckResult per fuzz check.

    Raises :class:`~conformance._exceptions.SetupError` when the target cannot be tested at all:
    unreachable, or every answer a 401/403 (a wrong token).
    """
    return fuzz(catalogue, target, options).checks


#: ``observe(method, path, status, body)``: each exchange as it happens (``status`` ``None``: no
#: answer), so that what the fuzzer creates is on the run's ledger at once.
Observer = Callable[[str, str, int | None, Any], None]

#: One judgement of an exchange: ``(fuzz check id, requirement ID, passed)``.
Verdict = tuple[str, str, bool]
#: ``record(exchange, verdicts, context)``: every exchange the stage recorded (schemathesis's and
#: the follow-through's), redacted, once all its verdicts are in; ``context`` names the pass
#: and phase. For evidence of everything sent (``exchanges.har``), not only of the violations.
Recorder = Callable[[Exchange, list[Verdict], str], None]


def fuzz(
    catalogue: Catalogue,
    target: FuzzTarget,
    options: FuzzOptions | None = None,
    *,
    observe: Observer | None = None,
    stop: threading.Event | None = None,
    record: Recorder | None = None,
    preflight: CheckResult | None = None,
    alongside: Callable[[], None] | None = None,
) -> FuzzResult:
    """:func:`run_fuzz` with the figures: request count, wall time and the requests sent.

    ``observe`` sees every exchange as it happens; setting ``stop`` ends the stage after the
    schemathesis scenario under way; ``record`` gets every recorded exchange with its
    verdicts. ``preflight``: the run's own preflight check, already passed against this target
    (then the stage sends none of its own). ``alongside`` (the run's scenario stage) runs in a
    thread of its own: on a shared tenant once the passes that may create a journal run are
    done and their runs followed through, beside the passes that create none; on a tenant of
    the stage's own (not ``shared_tenant``) from the start. The stage returns when both are
    done.

    Every request of the stage (schemathesis's, its probe, the preflight, the guard's reads and
    the follow-through) goes through one :class:`~conformance._http.Session`: one set of caps,
    deadlines, pacing, redaction and credentials.
    """
    options = options or FuzzOptions()
    redactor = Redactor([target.token])
    started = time.perf_counter()
    with target.session(redactor) as session:
        if preflight is None:
            _preflight(target, session)
        return _fuzz(catalogue, target, options, session, started, observe, stop, record, alongside)


def _fuzz(
    catalogue: Catalogue,
    target: FuzzTarget,
    options: FuzzOptions,
    session: Session,
    started: float,
    observe: Observer | None,
    stop: threading.Event | None,
    record: Recorder | None,
    alongside: Callable[[], None] | None,
) -> FuzzResult:
    redactor = session.redactor
    spec = _spec_prep.prepare_spec(catalogue.spec)
    if options.tenant is not None:
        spec = _spec_prep.in_tenant(spec, options.tenant)
    identity = OWN_CREDENTIALS if target.auth is not None else target.authorization
    judge = _Judge(redactor, identity, record)
    guard = Guard(target, redactor, undoable_only=options.shared_tenant, session=session)
    budget = CreateBudget(options.create_budget) if options.shared_tenant else None
    judge.budget = budget
    stop_reasons: dict[str, str] = {}
    deadline = None if options.max_time_s is None else started + options.max_time_s
    followed: set[str] = set()
    gone = list[str]()

    def follow() -> None:
        """Cancel and delete, judged, the runs the passes so far created."""
        runs = [n for n in judge.rules.left_behind_runs() if n not in followed]
        followed.update(runs)
        if options.follow_through and runs and not (stop is not None and stop.is_set()):
            gone.extend(
                follow_through(
                    catalogue.spec,
                    target,
                    runs,
                    judge.follow,
                    session,
                    identity=identity,
                    wait_s=options.follow_wait_s,
                    stop=stop,
                )[1]
            )

    def one(run: Pass) -> None:
        if stop is not None and stop.is_set():
            stop_reasons[run.name] = "interrupted"
            return
        time_s = None
        if deadline is not None:
            time_s = (deadline - time.perf_counter()) * run.share
            if time_s < 1:
                stop_reasons[run.name] = "max_time"
                return
        schema = load_pass(
            spec, target, options, run, guard, max_time_s=time_s, session=session, budget=budget
        )
        if observe is not None:
            _observe(schema, observe)
        with suite_probes(schema, session):
            stream = from_schema(schema).execute()
            stop_reasons[run.name] = judge.consume(run.name, stream, stop)

    todo = passes(target, options)
    # On a shared tenant the passes that create nothing come last; they go side by side, and
    # beside whatever else uses the tenant (``alongside``), once the others' runs are gone.
    split = len(todo)
    if options.shared_tenant:
        split = next((i for i, run in enumerate(todo) if run.creates_nothing), len(todo))
    with (
        _spec_prep.no_local_constants(),
        serial_ast_parsing(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="jr-alongside-fuzz") as beside,
    ):
        scenarios: Future[None] | None = None
        try:
            if alongside is not None and not options.shared_tenant:
                # A tenant of the stage's own (the embedded reference's): nothing the scenarios
                # do is seen by the fuzzer, so they go on beside the whole stage.
                scenarios = beside.submit(alongside)
                alongside = None
            for run in todo[:split]:
                one(run)
            if alongside is not None and split < len(todo) and not (stop and stop.is_set()):
                follow()
                guard.others_creating = True
                scenarios = beside.submit(alongside)
            _side_by_side(one, todo[split:])
        finally:
            guard.close()
        if scenarios is not None:
            scenarios.result()  # its exception, if any, is the stage's
    judge.raise_if_unauthorised()
    follow()
    judge.guarded = sorted(guard.refused)
    checks = judge.results(time.perf_counter() - started)
    return FuzzResult(
        checks=checks,
        # Every request the stage's session sent: schemathesis's (retries included), its probe,
        # the preflight, the guard's reads, the follow-through and any token request.
        requests=session.requests_sent,
        wall_s=time.perf_counter() - started,
        sent=judge.sent,
        stop_reasons=stop_reasons,
        not_deleted=judge.rules.left_behind(),
        guarded=judge.guarded,
        gone=gone,
    )


def _side_by_side(work: Callable[[Pass], None], runs: list[Pass]) -> None:
    """``work`` on each of ``runs``, in threads of their own (in this one for a single run); the
    first exception any raised is raised again once all are done."""
    if len(runs) <= 1:
        for run in runs:
            work(run)
        return
    with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="jr-fuzz-pass") as pool:
        futures = [pool.submit(work, run) for run in runs]
    for future in futures:
        future.result()


def _observe(schema: Any, observe: Observer) -> None:
    """Report every exchange of ``schema``'s run to ``observe`` as it happens."""

    def after_call(context: Any, case: Any, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        observe(str(case.method).upper(), case.formatted_path, response.status_code, body)

    def after_network_error(context: Any, case: Any, request: Any) -> None:
        observe(str(case.method).upper(), case.formatted_path, None, None)

    schema.hooks.register_hook_with_name(after_call, "after_call")
    schema.hooks.register_hook_with_name(after_network_error, "after_network_error")


def _preflight(target: FuzzTarget, session: Session) -> None:
    """One authenticated read, so a wrong base URL or token stops the stage before it starts
    (when the run's preflight has not done it already)."""
    try:
        response = session.do(
            Request("GET", paths.path(paths.GET_RUN, paths.NO_RUN), headers=dict(target.headers)),
            track="fuzz.preflight",
        )
    except TransportError as exc:
        raise SetupError(f"cannot reach {session.redactor.url(target.base_url)}: {exc}") from None
    if response.status_code in (401, 403):
        raise SetupError(_unauthorised_message(target, response.status_code))


def _unauthorised_message(target: FuzzTarget, status: int) -> str:
    what = "the credentials were refused" if target.auth else "no bearer token was sent"
    return (
        f"every answer was HTTP {status}: {what} by {target.base_url}; "
        "check --token / JR_TOKEN (nothing was fuzzed)"
    )


class _Judge:
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

    def consume(self, pass_name: str, stream: Any, stop: threading.Event | None = None) -> str:
        """Judge one schemathesis run; returns why it stopped. ``stop`` set: the engine is
        told to finish (its next event is the last)."""
        stop_reason = "completed"
        for event in stream:
            if stop is not None and stop.is_set():
                stream.stop()
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


def fuzz_checks() -> Iterator[FuzzCheck]:
    """Every fuzz check, custom and built-in group, in report order."""
    yield from CUSTOM_CHECKS
    yield from _builtins.BUILTIN_GROUPS
    yield ENGINE_CHECK
