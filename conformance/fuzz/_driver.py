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

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from schemathesis.engine import from_schema

from .. import _paths as paths
from .._catalogue import Catalogue
from .._exceptions import SetupError, TransportError
from .._http import Request, Session
from .._redact import Redactor
from .._results import CheckResult
from . import _builtins, _spec_prep
from ._budget import CreateBudget
from ._follow import follow_through
from ._guard import Guard
from ._judge import ENGINE_CHECK, Judge, Recorder, Sent
from ._options import FuzzOptions, FuzzTarget
from ._passes import Pass, load_pass, passes
from ._registry import CUSTOM_CHECKS, FuzzCheck
from ._threads import serial_ast_parsing
from ._transport import OWN_CREDENTIALS, suite_probes


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
    judge = Judge(redactor, identity, record)
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


def fuzz_checks() -> Iterator[FuzzCheck]:
    """Every fuzz check, custom and built-in group, in report order."""
    yield from CUSTOM_CHECKS
    yield from _builtins.BUILTIN_GROUPS
    yield ENGINE_CHECK
