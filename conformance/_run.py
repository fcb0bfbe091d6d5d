"""``run(config) -> RunResult``: preflight, scenarios, fuzzing and cleanup, in that order (on a
shared tenant the scenarios run inside the fuzz stage, beside its passes that create nothing).

This is the product: one call, one result, from which every report is rendered. Data flows one
way: catalogue + scenarios + config -> plan -> stages -> RunResult.

Safety: every session of the run reports to the ledger (``<reports>/ledger.jsonl``), which is
what the cleanup stage (and each scenario's hand-back of its tenant) cleans. A
read-only run plans only what reads, and its sessions refuse any write. SIGINT and SIGTERM stop
the run at the next boundary; cleanup still runs and the reports are still written.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._catalogue import Catalogue, load_catalogue
from ._cleanup import CLEANUP_WAIT_S, clean, lost_items, worth_retrying
from ._config import Config
from ._exceptions import SetupError
from ._ledger import ENTRY, LEDGER_FILE, RUN, Ledger
from ._plan import Plan, Scope, make_plan
from ._preflight import PENDING_WAIT_S, canary_request, check_idle, preflight, tenant_data
from ._progress import Progress
from ._results import CheckResult, LeftBehind, RunResult, Stage, Status, Target
from ._target import LiveTarget, open_target
from ._tenants import Protection, Tenants, tenants_for
from ._version import __version__
from .fuzz import (
    FuzzCheck,
    FuzzOptions,
    FuzzResult,
    FuzzTarget,
    Observer,
    SecondTenant,
    fuzz,
)
from .report import _console as console
from .scenarios import Scenario

if TYPE_CHECKING:
    from .reference import ReferenceSettings

#: The stage names, in the order a run goes through them.
STAGES = ("preflight", "scenarios", "fuzz", "cleanup")


# -- the run -------------------------------------------------------------------------------------


def new_run_id() -> str:
    """Short and safe for a Zuora-Track-Id: ``jrc-`` and eight hex digits."""
    return f"jrc-{secrets.token_hex(4)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run(
    config: Config,
    *,
    progress: Progress | None = None,
    catalogue: Catalogue | None = None,
    reference: ReferenceSettings | None = None,
    stop: threading.Event | None = None,
    pending_wait_s: float = PENDING_WAIT_S,
    cleanup_wait_s: float = CLEANUP_WAIT_S,
    scope: Scope | None = None,
) -> RunResult:
    """Run the selected checks against ``config``'s target and return the one result.

    With no base URL the embedded reference server is started, with ``reference`` settings if
    given (the self-test uses them for faults and other valid configurations).

    A broken setup does not raise: it ends the run early with ``setup_error`` set (and an ERROR
    status), so that a report is still written. Usage errors (a bad selection) raise before
    anything is sent.

    ``stop`` (set by SIGINT or SIGTERM when called from the main thread, or by the caller) ends
    the run at the next boundary: nothing new starts, what the run created is cleaned up, and
    the result is returned as far as it got. ``pending_wait_s`` bounds the wait for a journal run
    the suite did not create; ``cleanup_wait_s`` the cleanup of each item. ``scope`` restricts
    the run to some stages (the ``scenarios`` and ``fuzz`` commands are presets of it).
    """
    from .report import apply_expected_failures, load_expected_failures

    catalogue = catalogue or load_catalogue()
    progress = progress or Progress("quiet")
    stop = stop or threading.Event()
    plan = make_plan(config, catalogue, scope)
    # A malformed expected-failures file is a configuration error before anything is sent.
    expected = None
    if config.expected_failures is not None:
        expected = load_expected_failures(config.expected_failures)
    run_id = new_run_id()
    result = RunResult(
        run_id=run_id,
        tool_version=__version__,
        target=Target(config.base_url or "embedded reference server"),
        started_at=_now(),
        requirements=list(catalogue.requirements.values()),
        settings=config.redacted(),
        strict=config.strict,
    )
    with (
        _interruptible(stop),
        open_target(config, reference) as target,
        _tenants(config, run_id, target) as tenants,
    ):
        ledger = Ledger(
            config.reports_dir / LEDGER_FILE,
            run_id=run_id,
            base_url=target.base_url,
            implementation=target.implementation,
        )
        tenants.protect(
            Protection(
                ledger,
                read_only=config.read_only,
                foreign=not target.is_reference,
                cleanup_wait_s=cleanup_wait_s,
            )
        )
        result.target = Target(
            base_url=target.base_url,
            implementation=target.implementation,
            zuora_version=config.zuora_version,
            capabilities=tuple(sorted(tenants.capabilities)),
        )
        earlier = [item for item in ledger.earlier if item.base_url == target.base_url]
        if earlier:
            progress.message(console.earlier_left_behind(len(earlier), ledger.path))
        stages = _Stages(result, tenants, ledger)
        try:
            with stages.stage("preflight"):
                progress.stage("preflight")
                with tenants.acquire("preflight") as tenant:
                    check = preflight(tenant.session)
                    tenants.data = tenant_data(
                        tenant.session, target.tenant_settings(config), check
                    )
                    if plan.writes and not target.is_reference and not stop.is_set():
                        idle_run = check_idle(
                            tenant.session,
                            ledger,
                            tenant.key,
                            check,
                            tenants.data,
                            wait_s=pending_wait_s,
                            cleanup_wait_s=cleanup_wait_s,
                            stop=stop,
                            notify=progress.message,
                        )
                        if idle_run is not None:  # the completed-run fixture's, if wanted
                            tenants.offer(tenant.key, canary_request(tenants.data), idle_run)
                        check.settle()
                result.checks.append(check)
                progress.check_done(check)
        except SetupError as exc:
            result.setup_error = str(exc)
            progress.message(console.setup_error(exc))
        else:
            _left_out(plan, result)

            def scenario_stage() -> None:
                with stages.stage("scenarios"):
                    _scenarios(catalogue, plan, tenants, config, result, progress, stop)

            # On a shared tenant the scenarios run alongside the fuzz passes that create no
            # journal run (after those that do, which have the tenant alone): the one tenant's
            # latency is paid once for both. Against the embedded reference they run alongside
            # the whole fuzz stage, on tenants of their own: the scenarios spend most of their
            # time waiting (polling, held states), the fuzzer almost none.
            alongside = bool(plan.scenarios and plan.fuzz_checks)
            if plan.scenarios and not alongside:
                scenario_stage()
            if plan.fuzz_checks:
                if stop.is_set():
                    _not_run(plan.fuzz_checks, result, "not run: the run was interrupted")
                else:
                    with stages.stage("fuzz") as stage:
                        _fuzz(
                            stages,
                            catalogue,
                            plan,
                            tenants,
                            target,
                            config,
                            result,
                            progress,
                            stage,
                            stop,
                            alongside=scenario_stage if alongside else None,
                        )
            ran = {stage.name for stage in result.stages}
            if plan.scenarios and "scenarios" not in ran:  # the fuzz stage ended before its turn
                scenario_stage()
        if stop.is_set():
            progress.message(console.CLEANING_UP_AFTER_INTERRUPT)
        with stages.stage("cleanup"):
            _cleanup(ledger, tenants, result, progress, cleanup_wait_s)
    # The gate, here so that every caller (CLI, pytest entry point, library) judges alike:
    # SHOULD/MAY failures are warnings, then the expected failures apply.
    result.grade(catalogue.levels)
    if expected is not None:
        apply_expected_failures(result, expected)
    result.interrupted = stop.is_set()
    result.finished_at = _now()
    return result


@contextmanager
def _interruptible(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` (once; a second one aborts at once with
    KeyboardInterrupt). Signal handlers belong to the main thread: elsewhere, only ``stop``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        console.interrupt_notice()

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _cleanup(
    ledger: Ledger,
    tenants: Tenants,
    result: RunResult,
    progress: Progress,
    wait_s: float,
) -> None:
    """Clean what this run created and no scenario's hand-back did. What a
    hand-back gave up on in a state that does not end by itself is reported, not retried."""
    open_items = ledger.open_items()
    items = [item for item in open_items if worth_retrying(item)]
    given_up = [item for item in open_items if not worth_retrying(item)]
    # What is left behind is in the result (and printed once, by the caller's summary).
    progress.stage("cleanup", total=len(items))
    left = clean(ledger, items, tenants.session_for, wait_s=wait_s)
    earlier = [LeftBehind(i.kind, i.number, i.status, i.reason) for i in given_up]
    result.left_behind = earlier + left + lost_items(ledger)
    if ledger.implementation == "reference":
        for item in result.left_behind:
            item.reason += " (on the embedded reference server, gone with it)"


def _left_out(plan: Plan, result: RunResult) -> None:
    """Checks a read-only run leaves out are reported as skipped, not forgotten."""
    for item in plan.left_out:
        ids = item.requirements if isinstance(item, Scenario) else item.requirement_ids
        check = CheckResult(
            id=item.id,
            title=item.title,
            kind="scenario" if isinstance(item, Scenario) else "fuzz",
            area=item.area,
            requirement_ids=ids,
        )
        check.skip("not run: it writes, and this run is read-only")
        result.checks.append(check)


def _not_run(checks: list[FuzzCheck], result: RunResult, reason: str) -> None:
    for fuzz_check in checks:
        check = CheckResult(
            id=fuzz_check.id,
            title=fuzz_check.title,
            kind="fuzz",
            area=fuzz_check.area,
            requirement_ids=fuzz_check.requirement_ids,
        )
        check.skip(reason)
        result.checks.append(check)


@contextmanager
def _tenants(config: Config, run_id: str, target: LiveTarget) -> Iterator[Tenants]:
    tenants = tenants_for(
        config,
        run_id=run_id,
        base_url=target.base_url,
        client_secret=target.client_secret,
        reference_style=target.default_style,
    )
    with tenants:
        yield tenants


class _Stages:
    """Times each stage and counts the requests it sent, the transient answers it retried and
    the journal runs it created (what the run costs a tenant). A stage may run inside another
    (at the same time as the rest of it): the inner one's figures are then not the outer's."""

    def __init__(self, result: RunResult, tenants: Tenants, ledger: Ledger) -> None:
        self.result = result
        self.tenants = tenants
        self.ledger = ledger
        self._open: list[Stage] = []
        #: Stage name -> the tenants it holds alone while another stage runs inside it.
        self._own: dict[str, tuple[str, ...]] = {}

    def holds(self, stage: Stage, *tenants: str) -> None:
        """``stage`` keeps ``tenants`` to itself: the runs created there are its own, also while
        a stage runs inside it (against the embedded reference, the scenarios beside the fuzz
        stage, on tenants of their own)."""
        self._own[stage.name] = (*self._own.get(stage.name, ()), *tenants)

    def _created_on(self, stage_name: str) -> int:
        return sum(self.ledger.created(RUN, key) for key in self._own[stage_name])

    @contextmanager
    def stage(self, name: str) -> Iterator[Stage]:
        stage = Stage(name, within=self._open[-1].name if self._open else "")
        before, retried = self.tenants.requests_sent, self.tenants.retries
        runs = self.ledger.created(RUN)
        theirs = {name: self._created_on(name) for name in self._own}
        started = time.perf_counter()
        self._open.append(stage)
        try:
            yield stage
        finally:
            self._open.remove(stage)
            stage.wall_s = round(time.perf_counter() - started, 3)
            stage.requests += self.tenants.requests_sent - before
            stage.retries += self.tenants.retries - retried
            stage.runs_created += self.ledger.created(RUN) - runs
            for outer in self._open:  # what an outer stage created on its own tenant is its
                if outer.name in theirs:
                    stage.runs_created -= self._created_on(outer.name) - theirs[outer.name]
            self.result.stages.append(stage)
            for outer in self._open:  # counted once, in the inner stage
                outer.requests -= stage.requests
                outer.retries -= stage.retries
                outer.runs_created -= stage.runs_created


def _scenarios(
    catalogue: Catalogue,
    plan: Plan,
    tenants: Tenants,
    config: Config,
    result: RunResult,
    progress: Progress,
    stop: threading.Event,
) -> None:
    from .scenarios import run_scenarios

    progress.stage("scenarios", total=len(plan.scenarios))
    workers = config.tenants or (8 if tenants.max_parallel is None else tenants.max_parallel)
    checks = run_scenarios(
        catalogue,
        plan.scenarios,
        tenants,
        concurrency=workers,
        on_result=progress.check_done,
        stop=stop,
    )
    result.checks.extend(checks)


def _fuzz(
    stages: _Stages,
    catalogue: Catalogue,
    plan: Plan,
    tenants: Tenants,
    target: LiveTarget,
    config: Config,
    result: RunResult,
    progress: Progress,
    stage: Stage,
    stop: threading.Event,
    *,
    alongside: Callable[[], None] | None = None,
) -> None:
    """The fuzz stage, with the tenant alone; ``alongside`` (the scenario stage), if given, runs
    once the passes that may create a journal run are done, beside the rest of the stage."""
    from ._results import Exchange
    from .fuzz._judge import Verdict
    from .report._har import FuzzSpool, attach_spool

    progress.stage("fuzz", total=len(plan.fuzz_checks))
    wanted = {check.id for check in plan.fuzz_checks}
    # The run's preflight already read the target with these credentials: the stage sends none.
    preflight = next((c for c in result.checks if c.id == "preflight"), None)
    with ExitStack() as hold:
        tenant = hold.enter_context(tenants.acquire("fuzz"))
        if target.is_reference:  # the scenarios have tenants of their own
            stages.holds(stage, tenant.key)
        # The tenant's credentials and HTTP settings (caps, retries), not a header string: the
        # stage's session authenticates (and refreshes a client-credentials token) itself.
        fuzz_target = FuzzTarget(
            target.base_url,
            zuora_version=config.zuora_version,
            run_id=result.run_id,
            verify_tls=config.verify_tls,
            request_timeout_s=config.timeout_s,
            pacer=tenants.pacer,
            auth=tenant.session.auth,
            http=tenant.session.settings,
        )
        options = FuzzOptions(
            max_examples=config.max_examples,
            seed=config.seed,
            max_time_s=config.max_time_s,
            read_only=config.read_only,
            shared_tenant=not target.is_reference,
            tenant=tenants.data,
            # On an external tenant the passes after the stateful one (their creates within the
            # stage's budget) use schemathesis workers, as many as the run's concurrency; the
            # embedded reference keeps one, so a seed sends the same requests in order.
            workers=1 if target.is_reference else config.concurrency,
        )
        protection = tenants.protection
        observe = _observer(tenants, tenant.key)
        second = None
        if _second_process(target, tenants, config):
            other = hold.enter_context(tenants.acquire("fuzz, second process"))
            stages.holds(stage, other.key)
            second = SecondTenant(
                dataclasses.replace(
                    fuzz_target, pacer=None, auth=other.session.auth, http=other.session.settings
                ),
                _observer(tenants, other.key),
            )

        # Every exchange of the stage, with its verdicts, for exchanges.har (on disk, not in
        # memory); the fuzz checks themselves keep evidence of their violations only.
        spool = FuzzSpool(catalogue.levels, wanted)
        attach_spool(result, spool)

        def record(exchange: Exchange, verdicts: list[Verdict], context: str) -> None:
            progress.exchange(spool.add(exchange, verdicts, context) is Status.FAIL)

        beside = None
        if alongside is not None:

            def beside() -> None:
                if target.is_reference:  # the fuzz stage keeps its tenant, the scenarios theirs
                    progress.message(console.FUZZ_BESIDE)
                else:
                    hold.close()  # what is left of the stage creates no run: the tenant is shared
                    progress.message(console.FUZZ_ALONGSIDE)
                alongside()

        try:
            outcome = fuzz(
                catalogue,
                fuzz_target,
                options,
                observe=observe,
                stop=stop,
                record=record,
                preflight=preflight,
                alongside=beside,
                second=second,
            )
        except SetupError as exc:
            check = CheckResult(
                id="fuzz.setup",
                title="The fuzz stage can test the target",
                kind="fuzz",
                area="auth",
            )
            check.error(f"setup error: {exc}")
            outcome_checks = [check]
            requests = 0
        else:
            outcome_checks = [c for c in outcome.checks if c.id in wanted]
            requests = outcome.requests
            if protection is not None:
                _left(protection.ledger, tenant.key, outcome)
                if outcome.second is not None and second is not None:
                    _left(protection.ledger, other.key, outcome.second)
    stage.requests += requests
    if alongside is not None:  # the scenarios' lines came in between
        progress.stage("fuzz", total=len(plan.fuzz_checks))
    if config.read_only:
        for check in outcome_checks:  # what judges lifecycles has nothing to judge then
            if check.status is Status.ERROR and check.message.startswith("asserted nothing"):
                check.skip("not run: it judges runs the suite creates, and this run is read-only")
    for check in outcome_checks:
        check.settle(catalogue.levels)
        result.checks.append(check)
        progress.check_done(check)


def _observer(tenants: Tenants, key: str) -> Observer | None:
    """What puts each exchange of the fuzz stage on ``key``'s tenant on the run's ledger."""
    protection = tenants.protection
    if protection is None:
        return None
    ledger = protection.ledger

    def observe(method: str, path: str, status: int | None, body: Any) -> None:
        ledger.note(key, method, path, status, body)

    return observe


def _second_process(target: LiveTarget, tenants: Tenants, config: Config) -> bool:
    """Whether the fuzz stage runs its stateful and legacy passes in a second process, on a
    second tenant: against the embedded reference (tenants free and the suite's own, and a
    server whose work is CPU on this machine), unpaced, on a machine with a core to spare."""
    cores = os.cpu_count() or 1
    unpaced = tenants.pacer.per_min is None
    return target.is_reference and unpaced and not config.read_only and cores > 1


def _left(ledger: Ledger, key: str, outcome: FuzzResult) -> None:
    """What the fuzzer left on ``key``'s tenant, on the ledger (the observer may have missed
    some): cleaned when the tenant is handed back, like a scenario's."""
    for number in outcome.not_deleted:
        ledger.record(key, ENTRY if number.startswith("JE-") else RUN, number)
    for number in outcome.gone:
        ledger.gone(key, RUN, number)
