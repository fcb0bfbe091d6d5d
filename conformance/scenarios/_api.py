"""Running a selection of scenarios from a :class:`~conformance._config.Config`: what the
``jr-conformance scenarios`` command does, as a function (``jr-conformance run`` does the same
among its other stages, through ``conformance._run``).

Against the embedded reference (no base URL) the server is started for the run and stopped after.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._catalogue import Catalogue, load_catalogue
from .._config import Config
from .._exceptions import UsageError
from .._ledger import Ledger
from .._preflight import preflight, tenant_data
from .._results import CheckResult, Status
from .._target import open_target
from .._tenants import Protection, tenants_for
from ._loader import load_scenarios
from ._model import Scenario
from ._runner import OnResult, run_scenarios


@dataclass
class ScenarioRun:
    """What a run of scenarios gave: one result per scenario, and figures."""

    results: list[CheckResult] = field(default_factory=list)
    base_url: str = ""
    requests: int = 0
    wall_s: float = 0.0

    @property
    def status(self) -> Status:
        worst = Status.worst(result.status for result in self.results)
        return Status.ERROR if worst is None else worst

    def counts(self) -> dict[str, int]:
        counts = {status.label: 0 for status in Status}
        for result in self.results:
            counts[result.status.label] += 1
        return counts


def select_scenarios(scenarios: Sequence[Scenario], selectors: Iterable[str]) -> list[Scenario]:
    """The scenarios any selector names (an id, tag, area or requirement ID; wildcards allowed).

    No selector: all of them. A selector that names nothing is a :class:`UsageError` (a typo
    must not silently test less), and so is an empty selection.
    """
    selectors = list(selectors)
    if not selectors:
        chosen = list(scenarios)
    else:
        unmatched = [s for s in selectors if not any(sc.matches(s) for sc in scenarios)]
        if unmatched:
            raise UsageError(
                f"--select {', '.join(unmatched)}: names no scenario (select by scenario id, "
                "tag, area or requirement ID; shell wildcards allowed)"
            )
        chosen = [sc for sc in scenarios if any(sc.matches(s) for s in selectors)]
    if not chosen:
        raise UsageError("no scenario to run")
    return chosen


def run_selected(
    config: Config,
    *,
    paths: Sequence[str | Path] | None = None,
    catalogue: Catalogue | None = None,
    concurrency: int | None = None,
    on_result: OnResult | None = None,
) -> ScenarioRun:
    """Load the scenarios (the library, or ``paths``), select them by ``config.select``, and run
    them against ``config``'s target. Malformed files and bad selections raise before anything
    is sent; an unreachable target or refused credentials raise :class:`SetupError`."""
    catalogue = catalogue or load_catalogue()
    scenarios = select_scenarios(load_scenarios(paths, catalogue=catalogue), config.select)
    run_id = f"jrc-{secrets.token_hex(4)}"
    started = time.monotonic()
    with open_target(config) as target:
        tenants = tenants_for(
            config, run_id=run_id, base_url=target.base_url, client_secret=target.client_secret
        )
        with tenants:
            # What a scenario creates and its cleanup steps miss is cleaned when it hands its
            # tenant back; on an external target nothing the run did not create is changed.
            ledger = Ledger(
                None, run_id=run_id, base_url=target.base_url, implementation=target.implementation
            )
            tenants.protect(
                Protection(ledger, read_only=config.read_only, foreign=not target.is_reference)
            )
            with tenants.acquire("preflight") as tenant:
                check = preflight(tenant.session)  # a broken setup raises SetupError
                tenants.data = tenant_data(tenant.session, target.tenant_settings(config), check)
            workers = concurrency or config.tenants or 8
            results = run_scenarios(
                catalogue, scenarios, tenants, concurrency=workers, on_result=on_result
            )
            requests = tenants.requests_sent
    return ScenarioRun(results, target.base_url, requests, time.monotonic() - started)


def result_lines(result: CheckResult, *, verbose: bool = False) -> list[str]:
    """How the command shows one scenario: a status line, then each failed expectation with the
    requirement it belongs to (every expectation with ``verbose``)."""
    label = result.status.label.upper()
    head = f"{label:<6} {result.id} ({result.duration_s:.2f} s)"
    if result.status in (Status.SKIP, Status.ERROR) and result.message:
        head += f": {result.message}"
    lines = [head]
    for assertion in result.assertions:
        if assertion.passed and not verbose:
            continue
        mark = "ok  " if assertion.passed else "FAIL"
        text = assertion.message if not assertion.passed else assertion.description
        if assertion.passed:
            text = f"{', '.join(assertion.requirement_ids)}: step {assertion.step!r}: {text}"
        lines.append(f"    {mark} {text}")
    if result.status is Status.PASS and result.message:  # cleanup notes
        lines.append(f"    note: {result.message}")
    return lines


def summary_line(run: ScenarioRun) -> str:
    counts = run.counts()
    parts = [
        f"{counts[s.label]} {word}" for s, word in _WORDS if counts[s.label] or s is Status.PASS
    ]
    return (
        f"{', '.join(parts)} ({len(run.results)} scenarios, {run.requests} requests, "
        f"{run.wall_s:.1f} s, {run.base_url})"
    )


_WORDS = (
    (Status.PASS, "passed"),
    (Status.FAIL, "failed"),
    (Status.ERROR, "errors"),
    (Status.SKIP, "skipped"),
    (Status.XFAIL, "expected failures"),
)
