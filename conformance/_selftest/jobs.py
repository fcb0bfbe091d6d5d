"""One job of the self-test: the suite run against one fault, clean configuration or variant
set of the reference, and what the run's result says about it."""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._catalogue import Catalogue, load_catalogue
from .._exceptions import UsageError
from .._results import RunResult, Status
from .configs import (
    ALL_VARIANTS,
    CLEANUP_WAIT_S,
    FAST_MAX_EXAMPLES,
    VARIANT_BASES,
    clean_config,
)
from .outcomes import CleanOutcome, Detection, FaultOutcome

if TYPE_CHECKING:
    from ..scenarios import Scenario


@dataclass(frozen=True)
class Job:
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
) -> list[Job]:
    """Each variant alone in each of ``VARIANT_BASES`` (unless ``alone`` is False), then all of
    ``variant_names`` at once in each of ``clean_names`` (named ``variant@configuration``)."""

    def job(name: str, config: str, variants: Sequence[str]) -> Job:
        return Job("variant", name, fast, max_examples, seed, config, tuple(variants))

    bases = VARIANT_BASES if alone else ()
    jobs = [job(f"{name}@{base}", base, (name,)) for name in variant_names for base in bases]
    if len(variant_names) > 1:
        jobs += [job(f"{ALL_VARIANTS}@{config}", config, variant_names) for config in clean_names]
    return jobs


def run_job(job: Job) -> FaultOutcome | CleanOutcome:
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
        from ..reference import FAULTS

        fault = FAULTS[job.name]
        return FaultOutcome(
            fault.name, fault.description, list(fault.breaks), False, False, [], wall_s, 0, note
        )


def _describe_job(job: Job) -> str:
    if job.kind != "variant":
        return clean_config(job.name).description
    from ..reference import VARIANTS

    where = f"in {job.config} ({clean_config(job.config).description})"
    if len(job.variants) == 1:
        return f"{VARIANTS[job.variants[0]].description} {where}"
    return f"all {len(job.variants)} variants at once, {where}"


def _variant_selection(job: Job) -> list[str]:
    """Fast mode, one variant: the checks naming a requirement it reads (none selected: all, as
    for a variant of HTTP itself, which reads no requirement)."""
    from ..reference import VARIANTS

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
    from .._config import load_config
    from .._run import run
    from ..reference import ReferenceSettings

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


def _run_fault(job: Job) -> FaultOutcome:
    from ..reference import FAULTS

    fault = FAULTS[job.name]
    started = time.perf_counter()
    # The fault's own settings (e.g. an earliest target date) and what the suite is told of them.
    reference = {**fault.settings, "faults": frozenset({fault.name})}
    flags = dict(fault.flags)
    # Every run of the fault: its reference, its flags, the job's seed.
    suite = functools.partial(_suite_run, seed=job.seed, flags=flags, reference=reference)
    results: list[RunResult] = []
    note = ""
    if not job.fast:
        results.append(suite(max_examples=job.max_examples))
    else:
        scenarios, fuzz_checks = fast_selection(fault.breaks, load_catalogue())
        if scenarios:
            results.append(suite(select=scenarios, max_examples=None))
        if fuzz_checks and not any(_catching(r, fault.breaks) for r in results):
            examples = job.max_examples or FAST_MAX_EXAMPLES
            results.append(suite(select=fuzz_checks, max_examples=examples))
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


def _run_clean(job: Job) -> CleanOutcome:
    """A clean configuration, or (kind ``variant``) one with variants of the reference on."""
    clean = clean_config(job.config or job.name)
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
    from ..fuzz import fuzz_checks
    from ..scenarios import load_scenarios

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
