"""Comparing two runs check by check: what regressed, what was fixed, what else moved.

A new failure is a check that fails or errors now and did neither before (it passed, was skipped,
was an expected failure, or did not exist): that is what ``diff`` exits 1 for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .._results import EXIT_NONCONFORMANT, EXIT_OK, RequirementOutcome, RunResult, Score, Status
from ._evidence import one_line, reason
from ._summary import LEVELS, score_text

_BAD = (Status.FAIL, Status.ERROR)


def _label(status: Status | None) -> str:
    return "absent" if status is None else status.label


@dataclass(frozen=True)
class StatusChange:
    """One check (or requirement) whose status moved; ``None`` means it was not in that run."""

    id: str
    old: Status | None
    new: Status | None
    #: Why the check does not pass now (empty when it does).
    reason: str = ""

    def __str__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"{self.id}: {_label(self.old)} -> {_label(self.new)}{why}"


@dataclass(frozen=True)
class RequirementChange:
    """A requirement whose roll-up moved; labels include ``not covered`` and ``absent``."""

    id: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.id}: {self.old} -> {self.new}"


@dataclass
class ResultDiff:
    old_run_id: str
    new_run_id: str
    new_failures: list[StatusChange] = field(default_factory=list)
    fixed: list[StatusChange] = field(default_factory=list)
    changed: list[StatusChange] = field(default_factory=list)
    added: list[StatusChange] = field(default_factory=list)
    removed: list[StatusChange] = field(default_factory=list)
    requirements: list[RequirementChange] = field(default_factory=list)
    #: Per level: (old score text, new score text).
    scores: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def regressed(self) -> bool:
        return bool(self.new_failures)

    @property
    def exit_code(self) -> int:
        """What ``jr-conformance diff`` exits with: 1 when a check newly fails or errors."""
        return EXIT_NONCONFORMANT if self.regressed else EXIT_OK

    def render_text(self) -> str:
        lines = [f"Comparing run {self.old_run_id} (old) with run {self.new_run_id} (new)."]
        lines += [f"  {level:<6} {old} -> {new}" for level, (old, new) in self.scores.items()]
        sections: list[tuple[str, Sequence[object]]] = [
            ("New failures", self.new_failures),
            ("Fixed", self.fixed),
            ("Other status changes", self.changed),
            ("New checks", self.added),
            ("Removed checks", self.removed),
            ("Requirement status changes", self.requirements),
        ]
        for title, items in sections:
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  {one_line(str(item), 300)}" for item in items]
        if not any(items for _, items in sections):
            lines.append("No differences in checks or requirements.")
        verdict = (
            f"REGRESSED: {len(self.new_failures)} new failure(s)"
            if self.regressed
            else "No regressions."
        )
        lines.append(verdict)
        return "\n".join(lines)


def diff_results(old: RunResult, new: RunResult) -> ResultDiff:
    diff = ResultDiff(old.run_id, new.run_id)
    old_checks = {check.id: check for check in old.checks}
    new_checks = {check.id: check for check in new.checks}
    for check_id, check in new_checks.items():
        before = old_checks.get(check_id)
        was = None if before is None else before.status
        now = check.status
        change = StatusChange(check_id, was, now, "" if now is Status.PASS else reason(check))
        if before is None:
            diff.added.append(change)
        if now in _BAD and was not in _BAD:
            diff.new_failures.append(change)
        elif was in _BAD and now is Status.PASS:
            diff.fixed.append(change)
        elif before is not None and was is not now:
            diff.changed.append(change)
    diff.removed = [
        StatusChange(check_id, check.status, None)
        for check_id, check in old_checks.items()
        if check_id not in new_checks
    ]
    old_outcomes, new_outcomes = list(old.outcomes()), list(new.outcomes())
    diff.requirements = _requirement_changes(old_outcomes, new_outcomes)
    diff.scores = {
        level: (
            score_text(Score.of(old_outcomes, level)),
            score_text(Score.of(new_outcomes, level)),
        )
        for level in LEVELS
    }
    return diff


def _requirement_changes(
    old: list[RequirementOutcome], new: list[RequirementOutcome]
) -> list[RequirementChange]:
    def labels(outcomes: list[RequirementOutcome]) -> dict[str, str]:
        return {
            o.requirement.id: "not covered" if o.status is None else o.status.label
            for o in outcomes
        }

    before, after = labels(old), labels(new)
    return [
        RequirementChange(rid, before.get(rid, "absent"), after.get(rid, "absent"))
        for rid in dict.fromkeys([*after, *before])
        if before.get(rid, "absent") != after.get(rid, "absent")
    ]
