"""``selftest()``: choose the jobs, run them (in processes with ``jobs`` > 1), gather the result."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from .._catalogue import load_catalogue
from .._exceptions import UsageError
from .configs import CLEAN_CONFIGS
from .jobs import Job, run_job, variant_jobs
from .outcomes import CleanOutcome, FaultOutcome, SelftestResult
from .tables import check_fault_table, check_variant_table


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
    from ..reference import FAULTS, VARIANTS

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
    jobs_list = [Job("clean", name, fast, max_examples, seed) for name in clean_names]
    jobs_list += variant_jobs(
        variant_names,
        clean_names,
        fast=fast,
        max_examples=max_examples,
        seed=seed,
        alone=variants_alone,
    )
    jobs_list += [Job("fault", name, fast, max_examples, seed) for name in fault_names]

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
    jobs_list: list[Job], workers: int
) -> Iterator[tuple[Job, FaultOutcome | CleanOutcome]]:
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
