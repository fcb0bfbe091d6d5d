"""Turning thousands of per-exchange verdicts into one CheckResult per fuzz check.

Per requirement a check gets one summary assertion ("N answers checked, M violated it"), plus one
failed assertion with evidence for each of the first few violations. The evidence is the suite's
redacted Exchange; the message ends with the curl command that reproduces the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .._redact import Redactor
from .._results import Assertion, CheckResult
from ._observe import Observation
from ._registry import FuzzCheck

#: Violations kept with evidence, per check and requirement; the rest are only counted.
MAX_EXAMPLES_PER_REQUIREMENT = 5


@dataclass
class _Violation:
    description: str
    expected: Any
    actual: Any
    observation: Observation
    #: Extra text from the checker (schemathesis's own explanation).
    detail: str = ""
    #: What makes two violations the same one (kept once).
    key: str = ""


@dataclass
class _Counts:
    checked: int = 0
    violated: int = 0
    kept: list[_Violation] = field(default_factory=list)
    #: Distinct violations already kept, so a repeated one is counted but not shown again.
    seen: set[str] = field(default_factory=set)


class Tally:
    """Verdicts of one fuzz check, per requirement, in the order they were given."""

    def __init__(self, check: FuzzCheck) -> None:
        self.check = check
        self._counts: dict[str, _Counts] = {}
        #: Told of every verdict as it is given: ``(check id, requirement, passed, observation)``.
        self.listener: Callable[[str, str, bool, Observation], None] | None = None

    @property
    def checked(self) -> int:
        return sum(counts.checked for counts in self._counts.values())

    def add(
        self,
        requirement_id: str,
        passed: bool,
        observation: Observation,
        *,
        description: str,
        expected: Any = None,
        actual: Any = None,
        detail: str = "",
        dedupe: str | None = None,
    ) -> None:
        if self.listener is not None:
            self.listener(self.check.id, requirement_id, passed, observation)
        counts = self._counts.setdefault(requirement_id, _Counts())
        counts.checked += 1
        if passed:
            return
        counts.violated += 1
        key = dedupe if dedupe is not None else f"{description}|{actual!r}"
        if key in counts.seen or len(counts.kept) >= MAX_EXAMPLES_PER_REQUIREMENT:
            return
        counts.seen.add(key)
        counts.kept.append(_Violation(description, expected, actual, observation, detail, key))

    def merge(self, other: Tally) -> None:
        """Add ``other``'s verdicts (the same check's, judged elsewhere) after this one's."""
        for requirement_id, theirs in other._counts.items():
            counts = self._counts.setdefault(requirement_id, _Counts())
            counts.checked += theirs.checked
            counts.violated += theirs.violated
            for violation in theirs.kept:
                if violation.key in counts.seen or len(counts.kept) >= MAX_EXAMPLES_PER_REQUIREMENT:
                    continue
                counts.seen.add(violation.key)
                counts.kept.append(violation)

    def __getstate__(self) -> dict[str, Any]:
        # The listener is this process's: a tally sent to another process goes without it.
        return {**self.__dict__, "listener": None}

    def result(self, redactor: Redactor, duration_s: float = 0.0) -> CheckResult:
        check = CheckResult(
            id=self.check.id,
            title=self.check.title,
            kind="fuzz",
            area=self.check.area,
            requirement_ids=self.check.requirement_ids,
            duration_s=round(duration_s, 3),
            tags=("fuzz", *(("schemathesis",) if self.check.builtins else ())),
        )
        if not self._counts:
            check.error("asserted nothing: no answer of the fuzz run was one this check applies to")
            return check
        for requirement_id in _ordered(self._counts, self.check.requirement_ids):
            counts = self._counts[requirement_id]
            check.record(
                Assertion(
                    description=f"{requirement_id} held on every answer it applies to",
                    requirement_ids=(requirement_id,),
                    passed=counts.violated == 0,
                    expected="no violation",
                    actual=f"{counts.violated} of {counts.checked} answers violated it",
                    message=(
                        f"{counts.violated} of {counts.checked} answers violated {requirement_id}"
                        if counts.violated
                        else ""
                    ),
                )
            )
            for violation in counts.kept:
                exchange = violation.observation.exchange(redactor)
                index = check.add_exchange(exchange)
                text = f"{violation.description}: "
                if violation.expected is not None:
                    text += f"expected {violation.expected!r}, "
                text += f"got {violation.actual!r}"
                if violation.detail:
                    text += f"\n{redactor.scrub(violation.detail)}"
                check.record(
                    Assertion(
                        description=violation.description,
                        requirement_ids=(requirement_id,),
                        passed=False,
                        expected=_plain(violation.expected),
                        actual=_plain(violation.actual),
                        message=f"{redactor.scrub(text)}\nReproduce: {exchange.curl()}",
                        step=violation.observation.operation_id or violation.observation.label(),
                        exchange=index,
                    )
                )
        check.settle()
        return check


def _ordered(counts: dict[str, _Counts], preferred: Iterable[str]) -> list[str]:
    order = [rid for rid in preferred if rid in counts]
    return order + sorted(rid for rid in counts if rid not in order)


def _plain(value: Any) -> Any:
    """A JSON-friendly copy (results.json must serialise); sets and tuples become lists."""
    if isinstance(value, set | frozenset | tuple):
        return [_plain(item) for item in sorted(value, key=str)]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
