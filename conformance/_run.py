"""``run(config) -> RunResult``: preflight, scenarios, fuzzing and cleanup, in that order.

This is the product: one call, one result, from which every report is rendered. Data flows one
way: catalogue + scenarios + config -> plan -> stages -> RunResult.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from ._catalogue import Catalogue, load_catalogue
from ._config import Config
from ._exceptions import SetupError, UsageError
from ._preflight import preflight
from ._progress import Progress
from ._results import CheckResult, RunResult, Stage, Target
from ._target import LiveTarget, open_target
from ._tenants import Tenants, tenants_for
from ._version import __version__
from .fuzz import FuzzCheck, FuzzOptions, FuzzTarget, fuzz, fuzz_checks
from .scenarios import Scenario, load_scenarios

if TYPE_CHECKING:
    from .reference import ReferenceSettings

#: The stage names, in the order a run goes through them.
STAGES = ("preflight", "scenarios", "fuzz", "cleanup")


# -- what will run ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a run will do, after selection: the answer of ``jr-conformance list``."""

    scenarios: list[Scenario]
    fuzz_checks: list[FuzzCheck]

    @property
    def empty(self) -> bool:
        return not self.scenarios and not self.fuzz_checks


def _fuzz_matches(check: FuzzCheck, selector: str) -> bool:
    names = ("fuzz", check.id, check.area, *check.requirement_ids)
    return any(fnmatchcase(name, selector) for name in names)


def make_plan(config: Config, catalogue: Catalogue) -> Plan:
    """Select scenarios and fuzz checks by ``config.select`` (ids, areas, tags, requirement IDs,
    ``fuzz``; shell wildcards allowed). A selector that names nothing, or an empty selection, is a
    :class:`UsageError`: a typo must never silently test less."""
    scenarios = load_scenarios(None, catalogue=catalogue)
    checks = list(fuzz_checks())
    selectors = list(config.select)
    if not selectors:
        return Plan(scenarios, checks)
    unmatched = [
        s
        for s in selectors
        if not any(sc.matches(s) for sc in scenarios)
        and not any(_fuzz_matches(c, s) for c in checks)
    ]
    if unmatched:
        raise UsageError(
            f"--select {', '.join(unmatched)}: names no scenario or fuzz check (select by id, "
            "area, tag, requirement ID or 'fuzz'; shell wildcards allowed)"
        )
    plan = Plan(
        [sc for sc in scenarios if any(sc.matches(s) for s in selectors)],
        [c for c in checks if any(_fuzz_matches(c, s) for s in selectors)],
    )
    if plan.empty:  # pragma: no cover - every selector matched something
        raise UsageError("the selection is empty")
    return plan


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
) -> RunResult:
    """Run the selected checks against ``config``'s target and return the one result.

    With no base URL the embedded reference server is started, with ``reference`` settings if
    given (the self-test uses them for faults and other valid configurations).

    A broken setup does not raise: it ends the run early with ``setup_error`` set (and an ERROR
    status), so that a report is still written. Usage errors (a bad selection) raise before
    anything is sent.
    """
    catalogue = catalogue or load_catalogue()
    progress = progress or Progress("quiet")
    plan = make_plan(config, catalogue)
    run_id = new_run_id()
    result = RunResult(
        run_id=run_id,
        tool_version=__version__,
        target=Target(config.base_url or "embedded reference server"),
        started_at=_now(),
        requirements=list(catalogue.requirements.values()),
        settings=config.redacted(),
    )
    with open_target(config, reference) as target, _tenants(config, run_id, target) as tenants:
        result.target = Target(
            base_url=target.base_url,
            implementation=target.implementation,
            zuora_version=config.zuora_version,
            capabilities=tuple(sorted(tenants.capabilities)),
        )
        stages = _Stages(result, tenants)
        try:
            with stages.stage("preflight"):
                progress.stage("preflight")
                with tenants.acquire("preflight") as tenant:
                    check = preflight(tenant.session)
                result.checks.append(check)
                progress.check_done(check)
        except SetupError as exc:
            result.setup_error = str(exc)
            progress.message(f"setup error: {exc}")
        else:
            if plan.scenarios:
                with stages.stage("scenarios"):
                    _scenarios(catalogue, plan, tenants, config, result, progress)
            if plan.fuzz_checks:
                with stages.stage("fuzz") as stage:
                    _fuzz(catalogue, plan, tenants, target, config, result, progress, stage)
    result.finished_at = _now()
    return result


@contextmanager
def _tenants(config: Config, run_id: str, target: LiveTarget) -> Iterator[Tenants]:
    tenants = tenants_for(
        config, run_id=run_id, base_url=target.base_url, client_secret=target.client_secret
    )
    with tenants:
        yield tenants


class _Stages:
    """Times each stage and counts the requests it sent."""

    def __init__(self, result: RunResult, tenants: Tenants) -> None:
        self.result = result
        self.tenants = tenants

    @contextmanager
    def stage(self, name: str) -> Iterator[Stage]:
        stage = Stage(name)
        before = self.tenants.requests_sent
        started = time.perf_counter()
        try:
            yield stage
        finally:
            stage.wall_s = round(time.perf_counter() - started, 3)
            stage.requests += self.tenants.requests_sent - before
            self.result.stages.append(stage)


def _scenarios(
    catalogue: Catalogue,
    plan: Plan,
    tenants: Tenants,
    config: Config,
    result: RunResult,
    progress: Progress,
) -> None:
    from .scenarios import run_scenarios

    progress.stage("scenarios", total=len(plan.scenarios))
    workers = config.tenants or (8 if tenants.max_parallel is None else tenants.max_parallel)
    checks = run_scenarios(
        catalogue, plan.scenarios, tenants, concurrency=workers, on_result=progress.check_done
    )
    result.checks.extend(checks)


def _fuzz(
    catalogue: Catalogue,
    plan: Plan,
    tenants: Tenants,
    target: LiveTarget,
    config: Config,
    result: RunResult,
    progress: Progress,
    stage: Stage,
) -> None:
    progress.stage("fuzz", total=len(plan.fuzz_checks))
    wanted = {check.id for check in plan.fuzz_checks}
    with tenants.acquire("fuzz") as tenant:
        token = tenant.session.bearer_token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        fuzz_target = FuzzTarget(
            target.base_url,
            headers=headers,
            zuora_version=config.zuora_version,
            run_id=result.run_id,
            verify_tls=config.verify_tls,
            request_timeout_s=config.timeout_s,
        )
        options = FuzzOptions(
            max_examples=config.max_examples, seed=config.seed, max_time_s=config.max_time_s
        )
        try:
            outcome = fuzz(catalogue, fuzz_target, options)
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
    stage.requests += requests
    for check in outcome_checks:
        result.checks.append(check)
        progress.check_done(check)
