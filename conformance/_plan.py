"""What a run will do: the presets (``run``, ``scenarios``, ``fuzz``) and the selection of
scenarios and fuzz checks (``--select``, ``--read-only``), the answer of ``jr-conformance list``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from ._catalogue import Catalogue
from ._config import Config
from ._exceptions import UsageError
from ._ledger import SAFE_METHODS
from .fuzz import FuzzCheck, fuzz_checks
from .scenarios import Scenario, load_scenarios

# -- presets: the commands that run one stage ----------------------------------------------------

#: The stages a selection may restrict a run to (preflight and cleanup always run).
SELECTABLE = ("scenarios", "fuzz")
#: ``jr-conformance run``, ``scenarios`` and ``fuzz``: the same run, with these stages.
PRESETS: dict[str, tuple[str, ...]] = {
    "run": SELECTABLE,
    "scenarios": ("scenarios",),
    "fuzz": ("fuzz",),
}


@dataclass(frozen=True)
class Scope:
    """What a preset restricts a run to: its stages, and the scenario files it reads (``None``:
    the bundled library)."""

    stages: tuple[str, ...] = SELECTABLE
    scenario_paths: tuple[Path, ...] | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in self.stages if s not in SELECTABLE]
        if unknown or not self.stages:
            raise UsageError(f"stages: {unknown or 'none'}; choose from {', '.join(SELECTABLE)}")

    @classmethod
    def preset(cls, name: str, scenario_paths: Sequence[Path] | None = None) -> Scope:
        paths = tuple(scenario_paths) if scenario_paths else None
        return cls(PRESETS[name], paths)

    def candidates(self, catalogue: Catalogue) -> tuple[list[Scenario], list[FuzzCheck]]:
        """Every scenario and fuzz check of the scope, before selection."""
        scenarios: list[Scenario] = []
        if "scenarios" in self.stages:
            scenarios = load_scenarios(self.scenario_paths, catalogue=catalogue)
        checks = list(fuzz_checks()) if "fuzz" in self.stages else []
        return scenarios, checks

    def names(self) -> str:
        """What a selector may name in this scope, for a usage error."""
        return " or ".join({"scenarios": "scenario", "fuzz": "fuzz check"}[s] for s in self.stages)


# -- what will run ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a run will do, after selection: the answer of ``jr-conformance list``."""

    scenarios: list[Scenario]
    fuzz_checks: list[FuzzCheck]
    #: Selected, but left out of a read-only run because they write.
    left_out: list[Scenario | FuzzCheck] = field(default_factory=list)
    #: Whether anything planned may create, cancel, delete or change something.
    writes: bool = True

    @property
    def empty(self) -> bool:
        return not self.scenarios and not self.fuzz_checks


def writes(scenario: Scenario, catalogue: Catalogue) -> bool:
    """Whether a step (or cleanup step) of ``scenario``, or of a fixture it uses, uses a method
    other than GET."""
    from .scenarios import load_fixtures

    fixtures = load_fixtures(catalogue) if scenario.uses else {}
    for owner in (scenario, *(fixtures[name] for name in scenario.uses)):
        for step in (*owner.steps, *owner.cleanup):
            method = step.method or catalogue.operation(step.operation).method
            if method.upper() not in SAFE_METHODS:
                return True
    return False


def _fuzz_matches(check: FuzzCheck, selector: str) -> bool:
    names = ("fuzz", check.id, check.area, *check.requirement_ids)
    return any(fnmatchcase(name, selector) for name in names)


def make_plan(config: Config, catalogue: Catalogue, scope: Scope | None = None) -> Plan:
    """Select scenarios and fuzz checks by ``config.select`` (ids, areas, tags, requirement IDs,
    ``fuzz``; shell wildcards allowed), within ``scope`` (default: every stage, the bundled
    scenarios). A selector that names nothing, or an empty selection, is a :class:`UsageError`:
    a typo must never silently test less."""
    return _finish(_select(config, catalogue, scope), config, catalogue)


def _select(config: Config, catalogue: Catalogue, scope: Scope | None = None) -> Plan:
    scope = scope or Scope()
    scenarios, checks = scope.candidates(catalogue)
    selectors = list(config.select)
    if not selectors:
        if not scenarios and not checks:
            raise UsageError(f"no {scope.names()} to run")
        return Plan(scenarios, checks)
    unmatched = [
        s
        for s in selectors
        if not any(sc.matches(s) for sc in scenarios)
        and not any(_fuzz_matches(c, s) for c in checks)
    ]
    if unmatched:
        raise UsageError(
            f"--select {', '.join(unmatched)}: names no {scope.names()} (select by id, "
            "area, tag, requirement ID or 'fuzz'; shell wildcards allowed)"
        )
    plan = Plan(
        [sc for sc in scenarios if any(sc.matches(s) for s in selectors)],
        [c for c in checks if any(_fuzz_matches(c, s) for s in selectors)],
    )
    if plan.empty:  # pragma: no cover - every selector matched something
        raise UsageError("the selection is empty")
    return plan


def _finish(plan: Plan, config: Config, catalogue: Catalogue) -> Plan:
    """Leave out what writes when the run is read-only; an empty remainder is a usage error."""
    if not config.read_only:
        # The fuzz stage sends every operation of the spec, creates included.
        plan.writes = bool(plan.fuzz_checks) or any(writes(s, catalogue) for s in plan.scenarios)
        return plan
    reading = [s for s in plan.scenarios if not writes(s, catalogue)]
    left_out: list[Scenario | FuzzCheck] = [s for s in plan.scenarios if s not in reading]
    # The fuzz stage stays: read-only, it sends the GET operations only (FuzzOptions.read_only).
    result = Plan(reading, plan.fuzz_checks, left_out=left_out, writes=False)
    if result.empty:
        raise UsageError(
            "--read-only: nothing selected only reads (every selected scenario or fuzz check "
            "creates, cancels, deletes or changes something)"
        )
    return result
