"""What came of a self-test: per fault, per clean configuration, per variant, and overall."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .._results import EXIT_NONCONFORMANT, EXIT_OK
from .._version import __version__

#: Bumped whenever ``selftest.json`` changes shape; ``schemas/selftest.schema.json`` matches.
SELFTEST_SCHEMA_VERSION = "1.1"


@dataclass
class Detection:
    """A check that failed (or errored), and the requirements it blamed."""

    check: str
    status: str
    requirement_ids: list[str]
    message: str = ""


@dataclass
class FaultOutcome:
    fault: str
    description: str
    breaks: list[str]
    #: Some check failed or errored.
    detected: bool
    #: Some check failed an assertion naming a requirement the fault declares.
    expected: bool
    detections: list[Detection]
    wall_s: float
    #: The checks that ran (fast mode: the ones selected for this fault).
    checks_run: int = 0
    #: Why the run could not judge at all (setup error), or why nothing could catch the fault.
    note: str = ""
    #: The checks whose verdict on a declared requirement is FAIL (``CheckResult.status_for``).
    catching_checks: list[str] = field(default_factory=list)


@dataclass
class CleanOutcome:
    """A clean configuration, or (``variants``) one with variants of the reference on."""

    name: str
    description: str
    passed: bool
    false_alarms: list[Detection]
    checks_run: int
    wall_s: float
    note: str = ""
    #: The clean configuration the variants ran in (its own name for a plain one).
    config: str = ""
    #: The variants that were on (empty for a plain clean configuration).
    variants: list[str] = field(default_factory=list)


@dataclass
class SelftestResult:
    mode: str  # "fast" | "full"
    started_at: str
    tool_version: str = __version__
    finished_at: str = ""
    wall_s: float = 0.0
    faults: list[FaultOutcome] = field(default_factory=list)
    clean: list[CleanOutcome] = field(default_factory=list)
    #: Variants alone and all at once: conforming readings, so any failure is a false alarm.
    variants: list[CleanOutcome] = field(default_factory=list)
    schema_version: str = SELFTEST_SCHEMA_VERSION

    @property
    def caught(self) -> int:
        return sum(outcome.expected for outcome in self.faults)

    @property
    def score(self) -> float:
        """Mutation score in percent: faults caught as expected over faults run."""
        return 100.0 * self.caught / len(self.faults) if self.faults else 100.0

    @property
    def false_alarms(self) -> int:
        """Checks that failed on a clean configuration or a variant (a run that could not start
        counts 1)."""
        return sum(
            max(len(c.false_alarms), 0 if c.passed else 1) for c in [*self.clean, *self.variants]
        )

    @property
    def passed(self) -> bool:
        conforming = [*self.clean, *self.variants]
        return self.caught == len(self.faults) and all(c.passed for c in conforming)

    @property
    def exit_code(self) -> int:
        """What ``jr-conformance selftest`` exits with: 0 passed, else 1."""
        return EXIT_OK if self.passed else EXIT_NONCONFORMANT

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = {
            "caught": self.caught,
            "faults": len(self.faults),
            "percent": round(self.score, 1),
            "false_alarms": self.false_alarms,
        }
        data["passed"] = self.passed
        return data
