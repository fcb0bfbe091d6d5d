"""Running passes of the stage on one tenant: each pass's schemathesis run, guarded and judged in
order, and at the end the follow-through of the runs they created. The stage runs its passes
here (:mod:`._driver`), and so does a second process on a tenant of its own (:mod:`._away`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from schemathesis.engine import from_schema

from .._http import Session
from . import _spec_prep
from ._budget import CreateBudget
from ._follow import follow_through
from ._guard import Guard
from ._judge import Judge, Recorder
from ._options import FuzzOptions, FuzzTarget, Stop
from ._passes import Pass, load_pass
from ._threads import serial_ast_parsing
from ._transport import OWN_CREDENTIALS, suite_probes

#: ``observe(method, path, status, body)``: each exchange as it happens (``status`` ``None``: no
#: answer), so that what the fuzzer creates is on the run's ledger at once.
Observer = Callable[[str, str, int | None, Any], None]


@dataclass
class Ran:
    """What running passes on a tenant left: the judge and the stage's figures."""

    judge: Judge
    stop_reasons: dict[str, str] = field(default_factory=dict)
    #: Runs the follow-through deleted and saw gone.
    gone: list[str] = field(default_factory=list)


def run_passes(
    spec: Mapping[str, Any],
    target: FuzzTarget,
    options: FuzzOptions,
    session: Session,
    todo: list[Pass],
    *,
    deadline: float | None = None,
    observe: Observer | None = None,
    stop: Stop | None = None,
    record: Recorder | None = None,
    alongside: Callable[[], None] | None = None,
) -> Ran:
    """Run ``todo`` on ``target``'s tenant through ``session``, then follow the runs they created
    through cancel and delete (see :func:`~conformance.fuzz._driver.fuzz` for ``alongside``).
    ``spec`` is the catalogue's; ``deadline`` a ``time.monotonic()`` the passes end by."""
    redactor = session.redactor
    prepared = _spec_prep.prepare_spec(spec)
    if options.tenant is not None:
        prepared = _spec_prep.in_tenant(prepared, options.tenant)
    identity = OWN_CREDENTIALS if target.auth is not None else target.authorization
    ran = Ran(Judge(redactor, identity, record))
    judge = ran.judge
    guard = Guard(target, redactor, undoable_only=options.shared_tenant, session=session)
    budget = CreateBudget(options.create_budget) if options.shared_tenant else None
    judge.budget = budget
    followed: set[str] = set()

    def follow() -> None:
        """Cancel and delete, judged, the runs the passes so far created."""
        runs = [n for n in judge.rules.left_behind_runs() if n not in followed]
        followed.update(runs)
        if options.follow_through and runs and not (stop is not None and stop.is_set()):
            ran.gone.extend(
                follow_through(
                    spec,
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
            ran.stop_reasons[run.name] = "interrupted"
            return
        time_s = None
        if deadline is not None:
            time_s = (deadline - time.monotonic()) * run.share
            if time_s < 1:
                ran.stop_reasons[run.name] = "max_time"
                return
        schema = load_pass(
            prepared, target, options, run, guard, max_time_s=time_s, session=session, budget=budget
        )
        if observe is not None:
            _observe(schema, observe)
        with suite_probes(schema, session):
            stream = from_schema(schema).execute()
            ran.stop_reasons[run.name] = judge.consume(run.name, stream, stop)

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
    return ran


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
