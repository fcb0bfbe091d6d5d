"""The derived figures every report shows, computed once so that no two formats can disagree.

Everything here comes from :class:`RunResult`'s own roll-ups (``outcomes``, ``score``,
``uncovered``); this module only gathers and orders them for the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._catalogue import AREAS, LEVELS, Requirement
from .._results import CheckResult, RequirementOutcome, RunResult, Score, Status, Unverified

__all__ = ["LEVELS", "Summary", "score_text", "status_label", "summarise"]


@dataclass
class AreaSummary:
    area: str
    status: Status | None
    scores: dict[str, Score]
    #: False when no requirement of the area can be observed from outside.
    testable: bool = True

    @property
    def label(self) -> str:
        return status_label(self.status) if self.testable else "not testable"


@dataclass
class OperationCoverage:
    """Which requirements of one API operation some check covered, and by which checks."""

    operation: str
    requirement_ids: list[str]
    covered_ids: list[str]
    check_ids: list[str]
    status: Status | None


@dataclass
class Summary:
    result: RunResult
    status: Status
    counts: dict[str, int]
    scores: dict[str, Score]
    areas: list[AreaSummary]
    outcomes: list[RequirementOutcome]
    operations: list[OperationCoverage]
    uncovered_must: list[Requirement]
    #: MUSTs no check verified (uncovered, or every check skipped), why, and what would.
    unverified_must: list[Unverified]
    #: Checks that failed or errored (expected failures are listed apart).
    failures: list[CheckResult]
    #: Checks that failed only SHOULD or MAY requirements.
    warnings: list[CheckResult]
    xfails: list[CheckResult]

    @property
    def verdict(self) -> Status:
        """The overall status after the gate (see :attr:`RunResult.verdict`)."""
        return self.result.verdict

    @property
    def exit_code(self) -> int:
        """What ``jr-conformance`` exits with for this run (see :attr:`RunResult.exit_code`):
        read, never decided again, here."""
        return self.result.exit_code


def _area_order(area: str) -> tuple[int, str]:
    return (AREAS.index(area) if area in AREAS else len(AREAS), area)


def summarise(result: RunResult) -> Summary:
    # One pass over the checks (the costly part); every score is taken from it.
    outcomes = list(result.outcomes())
    testable_areas = {r.area for r in result.requirements if r.testable}
    areas = [
        AreaSummary(
            area,
            status,
            {level: Score.of(outcomes, level, area) for level in LEVELS},
            testable=area in testable_areas,
        )
        for area, status in sorted(result.by_area().items(), key=lambda item: _area_order(item[0]))
    ]
    return Summary(
        result=result,
        status=result.status,
        counts=result.counts(),
        scores={level: Score.of(outcomes, level) for level in LEVELS},
        areas=areas,
        outcomes=outcomes,
        operations=_operations(outcomes),
        uncovered_must=result.uncovered("MUST"),
        unverified_must=result.unverified("MUST", outcomes),
        failures=[c for c in result.checks if c.status >= Status.FAIL],
        warnings=[c for c in result.checks if c.status is Status.WARN],
        xfails=[c for c in result.checks if c.status is Status.XFAIL],
    )


def _operations(outcomes: list[RequirementOutcome]) -> list[OperationCoverage]:
    by_operation: dict[str, list[RequirementOutcome]] = {}
    for outcome in outcomes:
        for operation in outcome.requirement.operations:
            by_operation.setdefault(operation, []).append(outcome)
    coverage = []
    for operation in sorted(by_operation):
        group = by_operation[operation]
        check_ids = dict.fromkeys(cid for o in group for cid in o.check_ids)
        coverage.append(
            OperationCoverage(
                operation=operation,
                requirement_ids=[o.requirement.id for o in group],
                covered_ids=[o.requirement.id for o in group if o.status is not None],
                check_ids=list(check_ids),
                status=Status.worst(o.status for o in group if o.status is not None),
            )
        )
    return coverage


def status_label(status: Status | None, requirement: Requirement | None = None) -> str:
    """``pass``/``fail``/...; for a requirement no check spoke about, why not."""
    if status is not None:
        return status.label
    if requirement is not None and not requirement.testable:
        return "not testable"
    return "not covered"


def score_text(score: Score) -> str:
    """``63/65 (96.9%)``; a level with no testable requirements says so instead of 100%."""
    if not score.total:
        return "n/a"
    return f"{score.passed}/{score.total} ({score.percent:.1f}%)"
