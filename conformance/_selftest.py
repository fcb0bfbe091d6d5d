"""``jr-conformance selftest``: the suite proves that it notices what it claims to notice.

The reference server can make deliberate deviations (``conformance.reference.FAULTS``), each
declaring the requirement IDs it breaks. The self-test runs the suite against every fault and
against the clean reference in several valid configurations, and scores itself:

- a fault is *caught* when a check's verdict on a requirement the fault declares is FAIL, as the
  reports would show it (a check that merely errors, or blames another requirement, does not
  count);
- a clean configuration must pass everything: a failure there is a false alarm;
- so must every reference *variant* (``conformance.reference.VARIANTS``), a conforming alternative
  reading of a requirement's decision: each variant alone on the tenant of ``VARIANT_BASES`` in
  both error styles, and all variants at once in every clean configuration. A failure there is a
  false alarm too: the suite rejected a reading the catalogue allows.

The mutation score is caught faults over all faults; the self-test passes at 100 % with no false
alarm on any clean configuration or variant. Two modes:

- **full**: the whole suite (every scenario, the fuzz stage at its default budget) each time;
- **fast**: per fault, only the checks that could catch it (the scenarios naming a requirement it
  declares, then, if they missed it, the fuzz checks naming one, with a small budget); the clean
  configurations still run every check, with the small fuzz budget. A variant alone runs the
  checks naming a requirement it reads (every check for a variant of HTTP itself, which has no
  readings); all variants at once run every check.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._catalogue import Catalogue, load_catalogue
from ._exceptions import CatalogueError, UsageError
from ._results import RunResult, Status
from ._version import __version__

if TYPE_CHECKING:
    from .scenarios import Scenario

#: Bumped whenever ``selftest.json`` changes shape; ``schemas/selftest.schema.json`` matches.
SELFTEST_SCHEMA_VERSION = "1.1"
#: Fuzz examples per operation in the fast mode (the full mode uses the run's default).
FAST_MAX_EXAMPLES = 5
#: How long the run's cleanup may wait for one run or entry. The embedded reference and all it
#: holds are gone when a job ends, so cleaning up there is tried once, never waited for (a faulty
#: reference may never let go of a run, and a full run leaves dozens). Verdicts do not change.
CLEANUP_WAIT_S = 0.0
REPORT_JSON = "selftest.json"
REPORT_MARKDOWN = "selftest.md"


# -- what runs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanConfig:
    """One valid way to run the faithful reference: the suite must find nothing wrong."""

    name: str
    description: str
    #: Changes to ``ReferenceSettings``.
    reference: Mapping[str, Any] = field(default_factory=dict)
    #: Settings of the run (``load_config`` flags): what the suite is told about the target.
    flags: Mapping[str, Any] = field(default_factory=dict)
    #: Keep the reference's state in a SQLite file (a fresh temporary one) instead of memory.
    sqlite_file: bool = False


CLEAN_CONFIGS: tuple[CleanConfig, ...] = (
    CleanConfig("default", "legacy error style by default, no lifecycle delay, state in memory"),
    CleanConfig(
        "modern-style",
        "the tenant's default error style is modern, and the suite is told so",
        reference={"error_style": "modern"},
        flags={"error_style": "modern"},
    ),
    CleanConfig(
        "slow-lifecycle",
        "0.2 s between lifecycle steps: Pending, Processing, CancelInprogress and "
        "DeleteInprogress are seen while polling",
        reference={"delay": 0.2},
    ),
    CleanConfig(
        "legacy-version",
        "the suite sends Zuora-Version 341.0: every error is HTTP 200 with success false",
        flags={"zuora_version": "341.0"},
    ),
    CleanConfig(
        "newest-version",
        "the suite sends Zuora-Version 2025-08-12",
        flags={"zuora_version": "2025-08-12"},
    ),
    CleanConfig(
        "earliest-date",
        "the tenant's earliest target date is 2015-01-01, and the suite is told so: both sides "
        "of the boundary are checked in the period Jan-2015",
        reference={"earliest_date": "2015-01-01"},
        flags={"earliest_date": "2015-01-01"},
    ),
    CleanConfig(
        "earliest-gap",
        "periods 2024-01 to 2026-12 and the earliest target date 2015-01-01, in no period: the "
        "day before is checked, the day itself skipped with the reason",
        reference={"periods": ("2024-01", "2026-12"), "earliest_date": "2015-01-01"},
        flags={"earliest_date": "2015-01-01"},
    ),
    CleanConfig(
        "earliest-gap-modern",
        "as earliest-gap, with the modern error style by default (the suite is told)",
        reference={
            "periods": ("2024-01", "2026-12"),
            "earliest_date": "2015-01-01",
            "error_style": "modern",
        },
        flags={"earliest_date": "2015-01-01", "error_style": "modern"},
    ),
    CleanConfig(
        "sqlite-file",
        "the reference keeps its state in a SQLite file, with a short lifecycle delay",
        reference={"delay": 0.05},
        sqlite_file=True,
    ),
)

#: The clean configurations each variant runs in alone: a tenant with periods 2024-01 to 2026-12
#: only (no 2014, unlike the documents' examples) and earliest target date 2015-01-01, in both
#: error styles.
VARIANT_BASES = ("earliest-gap", "earliest-gap-modern")
#: The name of the combination of every variant.
ALL_VARIANTS = "all-variants"


# -- what came of it ------------------------------------------------------------------------------


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


# -- running ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    kind: str  # "fault" | "clean" | "variant"
    name: str
    fast: bool
    max_examples: int | None
    seed: int
    #: kind "variant": the clean configuration, and the variants on in it.
    config: str = ""
    variants: tuple[str, ...] = ()


def variant_jobs(
    variant_names: Sequence[str],
    clean_names: Sequence[str],
    *,
    fast: bool,
    max_examples: int | None,
    seed: int,
    alone: bool = True,
) -> list[_Job]:
    """Each variant alone in each of ``VARIANT_BASES`` (unless ``alone`` is False), then all of
    ``variant_names`` at once in each of ``clean_names`` (named ``variant@configuration``)."""
    bases = VARIANT_BASES if alone else ()
    jobs = [
        _Job("variant", f"{name}@{base}", fast, max_examples, seed, base, (name,))
        for name in variant_names
        for base in bases
    ]
    if len(variant_names) > 1:
        jobs += [
            _Job(
                "variant",
                f"{ALL_VARIANTS}@{config}",
                fast,
                max_examples,
                seed,
                config,
                tuple(variant_names),
            )
            for config in clean_names
        ]
    return jobs


def selftest(
    *,
    fast: bool = False,
    faults: Sequence[str] = (),
    clean: Sequence[str] = (),
    variants: Sequence[str] = (),
    run_clean: bool = True,
    run_faults: bool = True,
    run_variants: bool = True,
    variants_alone: bool = True,
    jobs: int = 1,
    max_examples: int | None = None,
    seed: int = 0,
    on_outcome: Callable[[FaultOutcome | CleanOutcome], None] | None = None,
) -> SelftestResult:
    """Run the self-test and return its result (the CLI prints and writes it).

    ``faults``, ``clean`` and ``variants`` select by name (shell wildcards allowed; empty: all);
    ``run_clean=False`` skips the clean configurations, ``run_faults=False`` the faults,
    ``run_variants=False`` the variants (so does ``run_clean=False``, unless ``variants`` names
    some). Each selected variant runs alone in ``VARIANT_BASES``
    (unless ``variants_alone`` is False), and the selected variants together in each clean
    configuration that runs.
    ``jobs`` > 1 runs that many processes, each with its own reference server. ``on_outcome``
    sees each outcome as it finishes.
    """
    from .reference import FAULTS, VARIANTS

    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    if max_examples is not None and max_examples < 1:
        raise UsageError(f"--max-examples must be at least 1, not {max_examples}")
    catalogue = load_catalogue()
    check_fault_table(catalogue)
    check_variant_table(catalogue)
    fault_names = _choose("--fault", faults, list(FAULTS)) if run_faults else []
    clean_names = _choose("--clean", clean, [c.name for c in CLEAN_CONFIGS]) if run_clean else []
    # Variants run in clean configurations: without those, only variants asked for by name.
    variant_names = []
    if run_variants and (run_clean or variants):
        variant_names = _choose("--variant", variants, list(VARIANTS))
    if not fault_names and not clean_names and not variant_names:
        raise UsageError("nothing to run: no fault, clean configuration or variant selected")
    jobs_list = [_Job("clean", name, fast, max_examples, seed) for name in clean_names]
    jobs_list += variant_jobs(
        variant_names,
        clean_names,
        fast=fast,
        max_examples=max_examples,
        seed=seed,
        alone=variants_alone,
    )
    jobs_list += [_Job("fault", name, fast, max_examples, seed) for name in fault_names]

    result = SelftestResult(mode="fast" if fast else "full", started_at=_now())
    started = time.perf_counter()
    outcomes: dict[tuple[str, str], FaultOutcome | CleanOutcome] = {}
    for job, outcome in _execute(jobs_list, jobs):
        outcomes[(job.kind, job.name)] = outcome
        if on_outcome is not None:
            on_outcome(outcome)
    # Report in declaration order, whatever order the processes finished in.
    result.clean = [
        o
        for j in jobs_list
        if j.kind == "clean" and isinstance(o := outcomes[(j.kind, j.name)], CleanOutcome)
    ]
    result.variants = [
        o
        for j in jobs_list
        if j.kind == "variant" and isinstance(o := outcomes[(j.kind, j.name)], CleanOutcome)
    ]
    result.faults = [
        o for j in jobs_list if isinstance(o := outcomes[(j.kind, j.name)], FaultOutcome)
    ]
    result.wall_s = round(time.perf_counter() - started, 2)
    result.finished_at = _now()
    return result


def check_fault_table(catalogue: Catalogue) -> None:
    """Every fault declares at least one requirement, and only ones the catalogue has."""
    from .reference import FAULTS

    problems = []
    for fault in FAULTS.values():
        unknown = [r for r in fault.breaks if r not in catalogue.requirements]
        if not fault.breaks:
            problems.append(f"fault {fault.name} declares no requirement")
        elif unknown:
            problems.append(f"fault {fault.name} declares unknown requirements {unknown}")
    if problems:
        raise CatalogueError("; ".join(problems))


def check_variant_table(catalogue: Catalogue) -> None:
    """The variants and the catalogue agree: a variant's readings are requirements with a
    decision, each of which names the variant back, and every variant a requirement names exists
    and declares it. A variant without readings gives the HTTP ``basis`` that allows it."""
    from .reference import VARIANTS

    problems = []
    for variant in VARIANTS.values():
        if not variant.readings and not variant.basis:
            problems.append(f"variant {variant.name} declares no reading and no basis")
        for rid in variant.readings:
            requirement = catalogue.requirements.get(rid)
            if requirement is None:
                problems.append(f"variant {variant.name} declares unknown requirement {rid}")
            elif not requirement.decision:
                problems.append(f"variant {variant.name} reads {rid}, which has no decision")
            elif variant.name not in requirement.variants:
                problems.append(f"variant {variant.name} reads {rid}, which does not name it")
    for requirement in catalogue.requirements.values():
        for name in requirement.variants:
            if name not in VARIANTS:
                problems.append(f"{requirement.id} names unknown variant {name}")
            elif requirement.id not in VARIANTS[name].readings:
                problems.append(f"{requirement.id} names variant {name}, which does not declare it")
        named = requirement.variants or requirement.variants_reason
        if requirement.decision and requirement.testable and not named:
            problems.append(f"{requirement.id} has a decision but names no variant")
    if problems:
        raise CatalogueError("; ".join(problems))


def _choose(flag: str, selectors: Sequence[str], names: list[str]) -> list[str]:
    if not selectors:
        return names
    unmatched = [s for s in selectors if not any(fnmatchcase(n, s) for n in names)]
    if unmatched:
        raise UsageError(
            f"{flag} {', '.join(unmatched)}: no such name (choose from {', '.join(names)})"
        )
    return [n for n in names if any(fnmatchcase(n, s) for s in selectors)]


def _execute(
    jobs_list: list[_Job], workers: int
) -> Iterator[tuple[_Job, FaultOutcome | CleanOutcome]]:
    if workers == 1 or len(jobs_list) == 1:
        for job in jobs_list:
            yield job, run_job(job)
        return
    # spawn, not fork: the parent may already have threads (a fork would copy their locks).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_job, job): job for job in jobs_list}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def run_job(job: _Job) -> FaultOutcome | CleanOutcome:
    """One fault or one clean configuration (top-level, so a worker process can run it).

    The suite crashing is an outcome too (and never a detection): the self-test reports it and
    goes on with the next job.
    """
    started = time.perf_counter()
    try:
        with _quiet_reference():
            if job.kind == "fault":
                return _run_fault(job)
            return _run_clean(job)  # a variant job is a clean configuration with variants on
    except (KeyboardInterrupt, UsageError):
        raise
    except Exception as exc:  # a bug of the suite, found by the self-test: report it
        note = f"the suite crashed: {type(exc).__name__}: {_one_line(str(exc))}"
        wall_s = round(time.perf_counter() - started, 2)
        if job.kind in ("clean", "variant"):
            return CleanOutcome(
                job.name,
                _describe_job(job),
                False,
                [],
                0,
                wall_s,
                note,
                job.config or job.name,
                list(job.variants),
            )
        from .reference import FAULTS

        fault = FAULTS[job.name]
        return FaultOutcome(
            fault.name, fault.description, list(fault.breaks), False, False, [], wall_s, 0, note
        )


def _clean_config(name: str) -> CleanConfig:
    return next(c for c in CLEAN_CONFIGS if c.name == name)


def _describe_job(job: _Job) -> str:
    if job.kind != "variant":
        return _clean_config(job.name).description
    from .reference import VARIANTS

    where = f"in {job.config} ({_clean_config(job.config).description})"
    if len(job.variants) == 1:
        return f"{VARIANTS[job.variants[0]].description} {where}"
    return f"all {len(job.variants)} variants at once, {where}"


def _variant_selection(job: _Job) -> list[str]:
    """Fast mode, one variant: the checks naming a requirement it reads (none selected: all, as
    for a variant of HTTP itself, which reads no requirement)."""
    from .reference import VARIANTS

    if not job.fast or len(job.variants) != 1:
        return []
    readings = VARIANTS[job.variants[0]].readings
    if not readings:
        return []
    scenarios, fuzz = fast_selection(readings, load_catalogue())
    return [*scenarios, *fuzz]


def _drop(record: logging.LogRecord) -> bool:
    return False


@contextlib.contextmanager
def _quiet_reference() -> Iterator[None]:
    """Some faults make the reference fail on purpose; its tracebacks are not news here.

    A filter, not ``disabled``: uvicorn's logging set-up re-enables existing loggers."""
    logger = logging.getLogger("conformance.reference")
    logger.addFilter(_drop)
    try:
        yield
    finally:
        logger.removeFilter(_drop)


def _suite_run(
    *,
    select: Sequence[str] = (),
    max_examples: int | None,
    seed: int,
    flags: Mapping[str, Any] | None = None,
    reference: Mapping[str, Any] | None = None,
) -> RunResult:
    from ._config import load_config
    from ._run import run
    from .reference import ReferenceSettings

    values: dict[str, Any] = {"progress": "quiet", "seed": seed, **(flags or {})}
    if select:
        values["select"] = list(select)
    if max_examples is not None:
        values["max_examples"] = max_examples
    # The run's ledger goes to its reports folder: one of its own, never the user's reports/.
    with tempfile.TemporaryDirectory(prefix="jrc-selftest-") as folder:
        values["reports_dir"] = folder
        # env={}: JR_* variables name the user's own target; the self-test tests only its own.
        config = load_config(flags=values, env={})
        settings = ReferenceSettings(**dict(reference or {}))
        return run(config, reference=settings, cleanup_wait_s=CLEANUP_WAIT_S)


def _run_fault(job: _Job) -> FaultOutcome:
    from .reference import FAULTS

    fault = FAULTS[job.name]
    started = time.perf_counter()
    # The fault's own settings (e.g. an earliest target date) and what the suite is told of them.
    reference = {**fault.settings, "faults": frozenset({fault.name})}
    flags = dict(fault.flags)
    results: list[RunResult] = []
    note = ""
    if not job.fast:
        results.append(
            _suite_run(
                max_examples=job.max_examples, seed=job.seed, flags=flags, reference=reference
            )
        )
    else:
        scenarios, fuzz_checks = fast_selection(fault.breaks, load_catalogue())
        if scenarios:
            results.append(
                _suite_run(
                    select=scenarios,
                    max_examples=None,
                    seed=job.seed,
                    flags=flags,
                    reference=reference,
                )
            )
        if fuzz_checks and not any(_catching(r, fault.breaks) for r in results):
            examples = job.max_examples or FAST_MAX_EXAMPLES
            results.append(
                _suite_run(
                    select=fuzz_checks,
                    max_examples=examples,
                    seed=job.seed,
                    flags=flags,
                    reference=reference,
                )
            )
        if not scenarios and not fuzz_checks:
            note = f"no scenario or fuzz check names {', '.join(fault.breaks)}"
    detections = [d for result in results for d in _detections(result)]
    catching = [check for result in results for check in _catching(result, fault.breaks)]
    setup_errors = [r.setup_error for r in results if r.setup_error]
    if setup_errors and not note:
        note = f"setup error: {setup_errors[0]}"
    return FaultOutcome(
        fault=fault.name,
        description=fault.description,
        breaks=list(fault.breaks),
        detected=bool(detections) or bool(setup_errors),
        expected=bool(catching),
        detections=detections,
        wall_s=round(time.perf_counter() - started, 2),
        checks_run=sum(len(r.checks) for r in results),
        note=note,
        catching_checks=catching,
    )


def _run_clean(job: _Job) -> CleanOutcome:
    """A clean configuration, or (kind ``variant``) one with variants of the reference on."""
    clean = _clean_config(job.config or job.name)
    examples = job.max_examples or (FAST_MAX_EXAMPLES if job.fast else None)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        reference = dict(clean.reference)
        if job.variants:
            reference["variants"] = frozenset(job.variants)
        if clean.sqlite_file:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="jrc-selftest-"))
            reference["db_path"] = str(Path(folder) / "reference.sqlite")
        result = _suite_run(
            select=_variant_selection(job),
            max_examples=examples,
            seed=job.seed,
            flags=clean.flags,
            reference=reference,
        )
    alarms = _detections(result)
    return CleanOutcome(
        name=job.name,
        description=_describe_job(job),
        passed=not alarms and not result.setup_error,
        false_alarms=alarms,
        checks_run=len(result.checks),
        wall_s=round(time.perf_counter() - started, 2),
        note=f"setup error: {result.setup_error}" if result.setup_error else "",
        config=clean.name,
        variants=list(job.variants),
    )


def fast_selection(
    requirement_ids: Sequence[str],
    catalogue: Catalogue,
    *,
    scenarios: Sequence[Scenario] | None = None,
) -> tuple[list[str], list[str]]:
    """(scenario ids, fuzz check ids) that name any of ``requirement_ids``; ``scenarios``
    defaults to the bundled library."""
    from .fuzz import fuzz_checks
    from .scenarios import load_scenarios

    wanted = list(requirement_ids)
    library = load_scenarios(None, catalogue=catalogue) if scenarios is None else scenarios
    chosen = [s.id for s in library if any(s.matches(req) for req in wanted)]
    checks = [c.id for c in fuzz_checks() if set(c.requirement_ids) & set(wanted)]
    return chosen, checks


def _catching(result: RunResult, breaks: Sequence[str]) -> list[str]:
    """The checks whose verdict on one of ``breaks`` is FAIL: an error is no verdict, and a
    failure blamed on another requirement is not this fault caught."""
    return [
        check.id
        for check in result.checks
        if any(check.status_for(requirement) is Status.FAIL for requirement in breaks)
    ]


def _detections(result: RunResult) -> list[Detection]:
    found = []
    for check in result.checks:
        if check.status < Status.WARN:  # a warning on a clean reference is a false alarm too
            continue
        if check.status in (Status.WARN, Status.FAIL):
            blamed = dict.fromkeys(r for a in check.failed_assertions for r in a.requirement_ids)
            ids = list(blamed) or list(check.all_requirement_ids())
        else:
            ids = list(check.all_requirement_ids())
        found.append(Detection(check.id, check.status.label, ids, _one_line(check.message)))
    return found


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- reports ---------------------------------------------------------------------------------------


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


#: At most this many checks per fault in the printed and Markdown matrix (all are in the JSON).
SHOWN_CHECKS = 6


def _first(items: list[str]) -> str:
    more = len(items) - SHOWN_CHECKS
    shown = ", ".join(items[:SHOWN_CHECKS])
    return f"{shown}, +{more} more (see {REPORT_JSON})" if more > 0 else shown


def _by_checks(outcome: FaultOutcome) -> str:
    if not outcome.detections:
        return outcome.note or "-"
    return _first([f"{d.check} [{' '.join(d.requirement_ids)}]" for d in outcome.detections])


def outcome_line(outcome: FaultOutcome | CleanOutcome) -> str:
    """One line per finished fault or configuration, for progress output."""
    if isinstance(outcome, CleanOutcome):
        verdict = "clean" if outcome.passed else f"FALSE ALARM x{len(outcome.false_alarms)}"
        names = ", ".join(d.check for d in outcome.false_alarms)
        extra = f": {names}" if names else (f": {outcome.note}" if outcome.note else "")
        kind = "variant" if outcome.variants else "clean"
        return f"  {kind:<7} {outcome.name:<44} {verdict}{extra} ({outcome.wall_s:.1f} s)"
    verdict = "caught" if outcome.expected else ("MISSED" if not outcome.detected else "OFF-TARGET")
    checks = _first(outcome.catching_checks) or _by_checks(outcome)
    return f"  fault  {outcome.fault:<28} {verdict}: {checks} ({outcome.wall_s:.1f} s)"


def render_text(result: SelftestResult) -> str:
    width = max((len(o.fault) for o in result.faults), default=5)
    lines = [f"Self-test ({result.mode} mode)", ""]
    sections = (
        ("Clean configurations (any failure is a false alarm):", result.clean),
        ("Variants: conforming readings (any failure is a false alarm):", result.variants),
    )
    for title, outcomes in sections:
        if not outcomes:
            continue
        lines.append(title)
        name_width = max(16, *(len(o.name) for o in outcomes))
        for clean in outcomes:
            verdict = "pass" if clean.passed else f"FAIL ({len(clean.false_alarms)} false alarms)"
            what = clean.description if not clean.variants else ""
            lines.append(
                f"  {clean.name:<{name_width}} {verdict:<22} {clean.wall_s:7.1f} s  {what}".rstrip()
            )
            if clean.note:
                lines.append(f"      {clean.note}")
            for alarm in clean.false_alarms:
                lines.append(
                    f"      {alarm.check} [{' '.join(alarm.requirement_ids)}]: {alarm.message}"
                )
        lines.append("")
    if result.faults:
        lines.append(
            f"  {'fault':<{width}}  {'breaks':<33} {'detected':<8} {'expected':<8} "
            f"{'wall':>7}  by checks [requirements blamed]"
        )
        for o in result.faults:
            lines.append(
                f"  {o.fault:<{width}}  {' '.join(o.breaks):<33} {_yes(o.detected):<8} "
                f"{_yes(o.expected):<8} {o.wall_s:6.1f}s  {_by_checks(o)}"
            )
        lines.append("")
    lines.append(summary_line(result))
    return "\n".join(lines)


def summary_line(result: SelftestResult) -> str:
    clean_passed = sum(c.passed for c in result.clean)
    variants_passed = sum(c.passed for c in result.variants)
    verdict = "PASS" if result.passed else "FAIL"
    return (
        f"{verdict}: mutation score {result.caught}/{len(result.faults)} ({result.score:.1f}%); "
        f"clean configurations {clean_passed}/{len(result.clean)} passed, "
        f"variant runs {variants_passed}/{len(result.variants)} passed, "
        f"{result.false_alarms} false alarms; {result.mode} mode, {result.wall_s:.1f} s in total"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(outcome: CleanOutcome) -> str:
    if outcome.passed:
        return "pass"
    alarms = ", ".join(f"`{a.check}` ({' '.join(a.requirement_ids)})" for a in outcome.false_alarms)
    return f"**false alarm**: {alarms}" + (f" {outcome.note}" if outcome.note else "")


def _reads(outcome: CleanOutcome) -> str:
    """The requirements a variant run exercises the readings of (a basis for HTTP variants)."""
    from .reference import VARIANTS

    if len(outcome.variants) != 1:
        return f"{len(outcome.variants)} variants"
    variant = VARIANTS.get(outcome.variants[0])
    if variant is None:
        return "-"
    return " ".join(variant.readings) or variant.basis


def render_markdown(result: SelftestResult) -> str:
    lines = [
        f"# Self-test ({result.mode} mode)",
        "",
        f"**{summary_line(result)}**",
        "",
        f"jr-conformance {result.tool_version}, started {result.started_at}.",
        "",
    ]
    if result.clean:
        lines += [
            "## Clean configurations",
            "",
            "| configuration | what | result | checks | wall (s) |",
            "|---|---|---|---:|---:|",
        ]
        for c in result.clean:
            lines.append(
                f"| {c.name} | {_md(c.description)} | {_md(_verdict(c))} | {c.checks_run} | "
                f"{c.wall_s:.1f} |"
            )
        lines.append("")
    if result.variants:
        lines += [
            "## Variants",
            "",
            "Conforming alternative readings of the catalogue's decisions: each alone, then all "
            "at once. Any failure is a false alarm.",
            "",
            "| variant | configuration | reads | result | checks | wall (s) |",
            "|---|---|---|---|---:|---:|",
        ]
        for c in result.variants:
            lines.append(
                f"| `{c.name.partition('@')[0]}` | {c.config} | {_md(_reads(c))} | "
                f"{_md(_verdict(c))} | {c.checks_run} | {c.wall_s:.1f} |"
            )
        lines.append("")
    if result.faults:
        lines += [
            "## Faults",
            "",
            "| fault | breaks | detected | by checks [requirements blamed] | expected among "
            "them | wall (s) |",
            "|---|---|---|---|---|---:|",
        ]
        for o in result.faults:
            checks = _first(
                [f"`{d.check}` [{' '.join(d.requirement_ids)}]" for d in o.detections]
            ) or _md(o.note or "-")
            lines.append(
                f"| `{o.fault}` | {' '.join(o.breaks)} | {_yes(o.detected)} | {checks} | "
                f"{_yes(o.expected)} | {o.wall_s:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_reports(result: SelftestResult, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / REPORT_JSON
    json_path.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    md_path = folder / REPORT_MARKDOWN
    md_path.write_text(render_markdown(result), encoding="utf-8")
    return {"json": json_path, "markdown": md_path}
