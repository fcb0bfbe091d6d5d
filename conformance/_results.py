"""The one result model. Every report is rendered from a :class:`RunResult`, never from elsewhere.

A check (one scenario, one fuzz check, the preflight, the cleanup) ends with one :class:`Status`.
Statuses are ordered, and when results roll up (to a requirement, an area, the whole run) the
worst one wins, as in the OCI distribution-spec conformance suite.
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ._catalogue import Requirement

#: Exit codes of a run (and of the CLI): the run's own verdict decides 0, 1 and 3.
EXIT_OK = 0
EXIT_NONCONFORMANT = 1
EXIT_USAGE = 2
EXIT_SETUP = 3
EXIT_INTERRUPTED = 130

#: Requirement ID -> level (``MUST``, ``SHOULD``, ``MAY``), as ``Catalogue.levels`` gives it.
Levels = Mapping[str, str]

#: Bumped whenever ``results.json`` changes shape; the JSON Schema has the same number.
#: 1.1: warn status, strict, interrupted, exit_code. 1.2: a check's needs, unverified_must.
SCHEMA_VERSION = "1.3"


class Status(enum.IntEnum):
    """The outcome of a check, ordered from best to worst."""

    PASS = 0
    SKIP = 1  # not run (a missing capability, a selection); never counts as a pass
    XFAIL = 2  # failed, as the expected-failures file says it would
    WARN = 3  # failed only SHOULD or MAY requirements: reported, fails the run only if strict
    FAIL = 4  # the implementation does not do what a MUST requirement says
    ERROR = 5  # no verdict reached: setup, transport, or a check that asserted nothing

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Status:
        return cls[value.upper()]

    @classmethod
    def worst(cls, statuses: Iterable[Status]) -> Status | None:
        """The worst of ``statuses``; ``None`` when there are none (nothing was checked)."""
        return max(statuses, default=None)


CheckKind = Literal["preflight", "scenario", "fuzz", "cleanup"]


@dataclass
class Exchange:
    """One HTTP request and its response, as evidence. Always already redacted and truncated."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status_code: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    elapsed_ms: float = 0.0
    #: Set when the exchange failed below HTTP (timeout, reset, oversized or undecodable body).
    error: str | None = None

    def curl(self) -> str:
        """A command that reproduces the request (secrets stay redacted)."""
        parts = ["curl", "-sS", "-X", self.method]
        for name, value in self.request_headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.request_body is not None:
            parts += ["--data-binary", self.request_body]
        parts.append(self.url)
        return shlex.join(parts)


@dataclass
class Assertion:
    """One expectation and what came of it, tied to the requirements it verifies."""

    description: str
    requirement_ids: tuple[str, ...]
    passed: bool
    expected: Any = None
    actual: Any = None
    message: str = ""
    #: The scenario step (or fuzzed operation) the expectation belongs to.
    step: str | None = None
    #: Index into the owning check's ``evidence`` of the exchange it judged.
    exchange: int | None = None


@dataclass
class CheckResult:
    """One check: its identity, what it verifies, its verdict and the evidence for it."""

    id: str
    title: str
    kind: CheckKind
    area: str
    requirement_ids: tuple[str, ...] = ()
    status: Status = Status.PASS
    message: str = ""
    duration_s: float = 0.0
    tags: tuple[str, ...] = ()
    assertions: list[Assertion] = field(default_factory=list)
    evidence: list[Exchange] = field(default_factory=list)
    #: The reason given in the expected-failures file, when the check matched an entry.
    expected_failure: str | None = None
    #: What would let a skipped check run: capabilities the target lacks (``reference-controls``)
    #: or a condition of the target (``a slower server``). Empty when nothing would.
    needs: tuple[str, ...] = ()

    def add_exchange(self, exchange: Exchange) -> int:
        self.evidence.append(exchange)
        return len(self.evidence) - 1

    def record(self, assertion: Assertion) -> Assertion:
        self.assertions.append(assertion)
        return assertion

    def skip(self, reason: str, *, needs: Iterable[str] = ()) -> None:
        self.status, self.message = Status.SKIP, reason
        self.needs = tuple(needs)

    def error(self, reason: str) -> None:
        self.status, self.message = Status.ERROR, reason

    def settle(self, levels: Levels | None = None) -> Status:
        """Derive the verdict from the assertions, unless the check was skipped or errored.

        A check that asserted nothing is an error, never a pass. Given the requirement
        ``levels``, a check whose failed assertions each name only SHOULD or MAY requirements
        is a WARN; a failed assertion naming a MUST, or no requirement at all, is a FAIL.
        Settling again (with the levels) re-derives the verdict.
        """
        if self.status in (Status.SKIP, Status.ERROR, Status.XFAIL):
            return self.status
        failed = [a for a in self.assertions if not a.passed]
        if failed:
            advisory_only = levels is not None and all(
                advisory(a.requirement_ids, levels) for a in failed
            )
            self.status = Status.WARN if advisory_only else Status.FAIL
            if not self.message:
                self.message = failed[0].message or failed[0].description
        elif not self.assertions:
            self.status = Status.ERROR
            self.message = self.message or "the check asserted nothing"
        else:
            self.status = Status.PASS
        return self.status

    @property
    def failed_assertions(self) -> list[Assertion]:
        return [a for a in self.assertions if not a.passed]

    def all_requirement_ids(self) -> tuple[str, ...]:
        ids = dict.fromkeys(self.requirement_ids)
        for assertion in self.assertions:
            ids.update(dict.fromkeys(assertion.requirement_ids))
        return tuple(ids)

    def status_for(self, requirement_id: str) -> Status | None:
        """What this check says about one requirement, or ``None`` if it says nothing.

        A failed assertion blames only the requirements it names; a check that could not reach a
        verdict (skip, error, expected failure) speaks for every requirement it names.
        """
        if requirement_id not in self.all_requirement_ids():
            return None
        if self.status in (Status.SKIP, Status.ERROR, Status.XFAIL):
            return self.status
        named = [a for a in self.assertions if requirement_id in a.requirement_ids]
        if not named:
            # A WARN's failures each name their (SHOULD/MAY) requirements: this one is not among
            # them. A FAIL may come from an assertion that names none, so it speaks for all.
            return Status.PASS if self.status is Status.WARN else self.status
        return Status.FAIL if any(not a.passed for a in named) else Status.PASS


def advisory(requirement_ids: Iterable[str], levels: Levels) -> bool:
    """Whether failing these requirements breaks only SHOULD or MAY ones (an unknown or absent
    requirement counts as a MUST: never soften what cannot be placed)."""
    ids = tuple(requirement_ids)
    return bool(ids) and all(levels.get(i, "MUST") != "MUST" for i in ids)


@dataclass
class Target:
    """What was tested."""

    base_url: str
    #: ``reference`` for the embedded reference server, ``external`` for anything else.
    implementation: str = "external"
    zuora_version: str | None = None
    capabilities: tuple[str, ...] = ()


@dataclass
class Stage:
    """Figures for one stage of a run (preflight, scenarios, fuzz, cleanup, reports)."""

    name: str
    wall_s: float = 0.0
    requests: int = 0
    #: Requests sent again after a transient answer (502/503/504, 500 category 61); counted in
    #: ``requests`` too.
    retries: int = 0
    #: Journal runs the stage created on the target (from the ledger).
    runs_created: int = 0
    #: The stage this one ran inside of, at the same time as the rest of it (the scenarios run
    #: alongside the fuzz stage's later passes on a shared tenant); its wall time is part of
    #: that stage's, its requests and runs are not.
    within: str = ""


@dataclass
class LeftBehind:
    """Something the suite created and could not clean up."""

    kind: str  # "journal-run" | "journal-entry"
    number: str
    status: str
    reason: str


@dataclass
class RequirementOutcome:
    requirement: Requirement
    status: Status | None  # None: no check said anything about it
    check_ids: list[str]


@dataclass
class Unverified:
    """A testable requirement no check verified, why, and what would verify it."""

    requirement: Requirement
    #: The reasons its checks gave (skip messages), or that no selected check covers it.
    reasons: list[str]
    #: Capabilities or conditions that would let its checks run (see ``CheckResult.needs``).
    would_verify: list[str]
    #: A check of it was skipped for something the target lacks (not for the selection), and
    #: none failed: this target cannot show it whole.
    out_of_reach: bool = False


@dataclass
class Score:
    passed: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 100.0

    @classmethod
    def of(
        cls, outcomes: Iterable[RequirementOutcome], level: str = "MUST", area: str | None = None
    ) -> Score:
        """The score of ``outcomes`` (see :meth:`RunResult.score`), for callers that already
        hold them: the reports score every area and level from one pass over the checks."""
        passed = total = 0
        for outcome in outcomes:
            requirement = outcome.requirement
            if requirement.level != level or not requirement.testable:
                continue
            if area is not None and requirement.area != area:
                continue
            total += 1
            passed += outcome.status is Status.PASS
        return cls(passed, total)


@dataclass
class RunResult:
    """Everything one run found, self-contained: the reports and ``diff`` need nothing else."""

    run_id: str
    tool_version: str
    target: Target
    started_at: str
    finished_at: str = ""
    requirements: list[Requirement] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    left_behind: list[LeftBehind] = field(default_factory=list)
    #: A one-line reason when the run could not test the target at all.
    setup_error: str | None = None
    #: Settings that shaped the run, secrets removed.
    settings: dict[str, Any] = field(default_factory=dict)
    #: Why the expected-failures file fails the gate (stale or now-passing entries), one line each.
    gate_problems: list[str] = field(default_factory=list)
    #: Whether a WARN (a SHOULD or MAY failure) fails the run, as ``--strict`` asks.
    strict: bool = False
    #: Whether the run was stopped early (SIGINT, SIGTERM or the caller's ``stop``).
    interrupted: bool = False
    schema_version: str = SCHEMA_VERSION

    # -- roll-ups ---------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        if self.setup_error:
            return Status.ERROR
        worst = Status.worst(check.status for check in self.checks)
        return Status.ERROR if worst is None else worst  # an empty run proves nothing

    @property
    def verdict(self) -> Status:
        """The run's status after the gate: a problem in the expected-failures file, or a WARN
        in a strict run, makes it a FAIL."""
        status = self.status
        if status < Status.FAIL and (self.gate_problems or (self.strict and status is Status.WARN)):
            return Status.FAIL
        return status

    @property
    def exit_code(self) -> int:
        """What the process exits with: the one exit rule of every front door."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.setup_error:
            return EXIT_SETUP
        return EXIT_NONCONFORMANT if self.verdict >= Status.FAIL else EXIT_OK

    def grade(self, levels: Levels) -> None:
        """Settle every check again with the requirement levels: SHOULD/MAY failures become
        WARN. Idempotent; the run does this once, before the expected failures apply."""
        for check in self.checks:
            check.settle(levels)

    def counts(self) -> dict[str, int]:
        counts = {status.label: 0 for status in Status}
        for check in self.checks:
            counts[check.status.label] += 1
        return counts

    def outcomes(self) -> Iterator[RequirementOutcome]:
        # Each check's requirements once, not once per requirement (a fuzz check's assertions
        # run into the thousands).
        naming = [(check, frozenset(check.all_requirement_ids())) for check in self.checks]
        for requirement in self.requirements:
            statuses: list[Status] = []
            check_ids: list[str] = []
            for check, named in naming:
                if requirement.id not in named:
                    continue
                status = check.status_for(requirement.id)
                if status is not None:
                    statuses.append(status)
                    check_ids.append(check.id)
            worst = Status.worst(statuses)
            if worst is Status.FAIL and requirement.level != "MUST":
                worst = Status.WARN  # a SHOULD or MAY not met is a warning, never a failure
            yield RequirementOutcome(requirement, worst, check_ids)

    def by_area(self) -> dict[str, Status | None]:
        areas: dict[str, list[Status]] = {}
        for outcome in self.outcomes():
            bucket = areas.setdefault(outcome.requirement.area, [])
            if outcome.status is not None:
                bucket.append(outcome.status)
        return {area: Status.worst(statuses) for area, statuses in areas.items()}

    def score(self, level: str = "MUST", area: str | None = None) -> Score:
        """Testable requirements of ``level`` whose checks all passed, over all testable ones.

        A testable requirement that no check covered counts against the score.
        """
        return Score.of(self.outcomes(), level, area)

    def uncovered(self, level: str = "MUST") -> list[Requirement]:
        return [
            o.requirement
            for o in self.outcomes()
            if o.status is None and o.requirement.level == level and o.requirement.testable
        ]

    def unverified(
        self, level: str = "MUST", outcomes: Iterable[RequirementOutcome] | None = None
    ) -> list[Unverified]:
        """Testable requirements of ``level`` that no check verified (uncovered, or every check
        of theirs skipped), each with the reasons and what would verify it. ``outcomes``: the
        :meth:`outcomes` a caller already holds (they cost a pass over every check)."""
        by_id = {check.id: check for check in self.checks}
        found = []
        for outcome in self.outcomes() if outcomes is None else outcomes:
            requirement = outcome.requirement
            if requirement.level != level or not requirement.testable:
                continue
            if outcome.status not in (None, Status.SKIP):
                continue
            checks = [by_id[i] for i in outcome.check_ids if i in by_id]
            reasons = list(dict.fromkeys(f"{c.id}: {c.message}" for c in checks)) or [
                "no selected check covers it"
            ]
            needs = list(dict.fromkeys(need for c in checks for need in c.needs))
            # Skipped, not failed (the worst of its checks is a skip), for something the
            # target lacks: this target cannot show it, whatever its other checks showed.
            reach = outcome.status is Status.SKIP and bool(needs)
            found.append(Unverified(requirement, reasons, needs, out_of_reach=reach))
        return found

    def unverifiable(self, level: str = "MUST") -> list[Unverified]:
        """The :meth:`unverified` requirements a check of which was skipped for something the
        target lacks: what this target cannot show, as opposed to what the run left out."""
        return [item for item in self.unverified(level) if item.out_of_reach]

    def requests_sent(self) -> int:
        return sum(stage.requests for stage in self.stages)

    def wall_s(self) -> float:
        """The stages' wall time, a stage that ran inside another counted once (in that one)."""
        return sum(stage.wall_s for stage in self.stages if not stage.within)

    def retries(self) -> int:
        return sum(stage.retries for stage in self.stages)

    def runs_created(self) -> int:
        return sum(stage.runs_created for stage in self.stages)

    # -- serialisation (results.json) ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.label
        data["verdict"] = self.verdict.label
        data["exit_code"] = self.exit_code
        data["counts"] = self.counts()
        data["scores"] = {level: asdict(self.score(level)) for level in ("MUST", "SHOULD", "MAY")}
        data["unverified_must"] = [
            {"id": u.requirement.id, "reasons": u.reasons, "would_verify": u.would_verify}
            for u in self.unverified("MUST")
        ]
        for check, raw in zip(self.checks, data["checks"], strict=True):
            raw["status"] = check.status.label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        def requirement(raw: dict[str, Any]) -> Requirement:
            raw = dict(raw)
            raw["operations"] = tuple(raw.get("operations", ()))
            raw["tags"] = tuple(raw.get("tags", ()))
            raw["variants"] = tuple(raw.get("variants", ()))
            return Requirement(**raw)

        def check(raw: dict[str, Any]) -> CheckResult:
            raw = dict(raw)
            raw["status"] = Status.parse(raw["status"])
            raw["requirement_ids"] = tuple(raw.get("requirement_ids", ()))
            raw["tags"] = tuple(raw.get("tags", ()))
            raw["needs"] = tuple(raw.get("needs", ()))
            raw["assertions"] = [
                Assertion(**{**a, "requirement_ids": tuple(a["requirement_ids"])})
                for a in raw.get("assertions", [])
            ]
            raw["evidence"] = [Exchange(**e) for e in raw.get("evidence", [])]
            return CheckResult(**raw)

        target = dict(data["target"])
        target["capabilities"] = tuple(target.get("capabilities", ()))
        return cls(
            run_id=data["run_id"],
            tool_version=data["tool_version"],
            target=Target(**target),
            started_at=data["started_at"],
            finished_at=data.get("finished_at", ""),
            requirements=[requirement(r) for r in data.get("requirements", [])],
            checks=[check(c) for c in data.get("checks", [])],
            stages=[Stage(**s) for s in data.get("stages", [])],
            left_behind=[LeftBehind(**item) for item in data.get("left_behind", [])],
            setup_error=data.get("setup_error"),
            settings=data.get("settings", {}),
            gate_problems=list(data.get("gate_problems", [])),
            strict=bool(data.get("strict", False)),
            interrupted=bool(data.get("interrupted", False)),
            schema_version=data.get("schema_version", SCHEMA_VERSION),
        )
