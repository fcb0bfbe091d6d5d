"""Everything the suite writes on a terminal, in one place: the commands' lines, the progress
lines and bars, the JSON-lines events and the error lines.

The engine decides, this module only words and writes: the exit code, the verdict and every
figure come from the :class:`~conformance.RunResult` (or the object a command was handed).
Nothing else in the package calls ``print``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from .._results import Assertion, CheckResult, RunResult, Status
from ._evidence import one_line
from ._expected import suggest_entry

if TYPE_CHECKING:
    from .._config import Config
    from ..fuzz._registry import FuzzCheck
    from ..scenarios._model import Scenario


class _Plan(Protocol):
    """What ``list`` shows of a :class:`conformance.Plan` (typed here without importing the
    orchestrator, which reports to this module)."""

    @property
    def scenarios(self) -> Sequence[Scenario]: ...

    @property
    def fuzz_checks(self) -> Sequence[FuzzCheck]: ...

    @property
    def left_out(self) -> Sequence[Scenario | FuzzCheck]: ...


# -- writing ---------------------------------------------------------------------------------------


def out(text: str) -> None:
    """A line of a command's answer, on stdout."""
    print(text, flush=True)


def err(text: str, stream: TextIO | None = None) -> None:
    """A diagnostic line (a warning, an error, a progress line), on stderr or ``stream``."""
    print(text, file=stream or sys.stderr, flush=True)


def event(record: Mapping[str, Any]) -> None:
    """One JSON-lines progress event, on stdout (for machines)."""
    print(json.dumps(record, sort_keys=True), file=sys.stdout, flush=True)


def interrupt_notice() -> None:
    """Said from a signal handler: only a raw write is safe there (the interrupted code may hold
    any lock, the stream's included)."""
    os.write(
        2,
        b"jr-conformance: interrupted; finishing the current step, then cleaning up "
        b"(interrupt again to abort at once)\n",
    )


def error_line(exc: BaseException) -> str:
    """A :class:`~conformance.ConformanceError` as the one line the command prints for it."""
    return f"jr-conformance: {type(exc).__name__}: {exc}"


INTERRUPTED = "jr-conformance: interrupted"
CLEANING_UP_AFTER_INTERRUPT = "interrupted: cleaning up what this run created"
FUZZ_ALONGSIDE = (
    "fuzz: the passes that create no journal run go on alongside the scenarios; "
    "the fuzz checks settle after them"
)
FUZZ_BESIDE = (
    "fuzz: the scenarios go on alongside, on tenants of their own; "
    "the fuzz checks settle after them"
)


def earlier_left_behind(count: int, ledger: Path | None) -> str:
    return (
        f"{count} run(s) or entries from earlier runs of the suite were never cleaned up; "
        f"finish with: jr-conformance cleanup --ledger {ledger}"
    )


def setup_error(exc: BaseException | str) -> str:
    return f"setup error: {exc}"


class Bars:
    """The live display: one rich progress bar per stage, on the terminal's stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream, highlight=False, markup=False, emoji=False)
        self.progress = RichProgress(
            TextColumn("{task.description:<10}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failing]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task: TaskID | None = None
        self.progress.start()

    def stage(self, name: str, total: int) -> None:
        self._finish()
        # No total (the preflight): an indeterminate bar until its one check is done.
        self.task = self.progress.add_task(name, total=total or None, failing="")

    def advance(self, done: int, failures: int, exchanges: int = 0) -> None:
        if self.task is not None:
            parts = [f"{failures} failing"] if failures else []
            parts += [f"{exchanges} requests"] if exchanges else []
            self.progress.update(self.task, completed=done, failing=", ".join(parts))

    def detail(self, text: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, failing=text)

    def line(self, text: str) -> None:
        self.progress.console.print(Text(text), soft_wrap=True)

    def _finish(self) -> None:
        task = self.progress.tasks[-1] if self.task is not None else None
        if task is not None and task.total is None:  # an indeterminate bar stops pulsing
            self.progress.update(task.id, total=task.completed)

    def close(self) -> None:
        self._finish()
        self.progress.stop()


# -- progress lines --------------------------------------------------------------------------------


def stage_line(name: str, total: int) -> str:
    return f"== {name}" + (f" ({total})" if total else "")


def done_line(check: CheckResult, done: int, total: int) -> str:
    """A finished check, in a log (not a terminal): ``[3/8] FAIL  id: message``."""
    count = f"[{done}/{total}]" if total else f"[{done}]"
    text = f"{count} {check.status.label.upper():5} {check.id}"
    if check.status is not Status.PASS and check.message:
        text += f": {check.message}"
    return text


def live_line(check: CheckResult) -> str:
    """A check that did not pass, printed above the live bars."""
    text = f"{check.status.label.upper():5} {check.id}"
    return text + (f": {one_line(check.message)}" if check.message else "")


# -- the commands' answers -------------------------------------------------------------------------


def warning_lines(config: Config) -> Iterator[str]:
    for warning in config.warnings:
        yield f"warning: {warning}"


def plan_lines(plan: _Plan) -> Iterator[str]:
    """``jr-conformance list``: what a run would run."""
    for scenario in plan.scenarios:
        needs = f" [needs {', '.join(scenario.capabilities)}]" if scenario.capabilities else ""
        uses = f" [uses fixture {', '.join(scenario.uses)}]" if scenario.uses else ""
        ids = ", ".join(scenario.all_requirement_ids())
        yield f"scenario  {scenario.id}: {scenario.title} ({ids}){needs}{uses}"
    for check in plan.fuzz_checks:
        yield f"fuzz      {check.id}: {check.title} ({', '.join(check.requirement_ids)})"
    for item in plan.left_out:
        yield f"skipped   {item.id}: writes, and the run is read-only"
    yield f"{len(plan.scenarios)} scenarios, {len(plan.fuzz_checks)} fuzz checks"


def check_lines(check: CheckResult, *, verbose: bool = False) -> list[str]:
    """One check in detail (the ``scenarios`` and ``fuzz`` commands): a status line, then each
    failed assertion with the requirements it belongs to (every assertion with ``verbose``)."""
    label = check.status.label.upper()
    head = f"{label:<6} {check.id} ({check.duration_s:.2f} s)"
    if check.status is not Status.PASS and check.message:
        head += f": {_first_line(check.message)}"
    lines = [head]
    shown = [a for a in check.assertions if verbose or not a.passed]
    if check.kind == "fuzz":  # hundreds of exchanges: a few examples, each with its curl
        shown = _examples(check)
    for assertion in shown:
        lines.extend(_assertion_lines(check, assertion))
    if check.status is Status.PASS and check.message:  # cleanup notes
        lines.append(f"    note: {check.message}")
    return lines


def _assertion_lines(check: CheckResult, assertion: Assertion) -> Iterator[str]:
    mark = "ok  " if assertion.passed else "FAIL"
    if check.kind == "fuzz":
        yield f"    {mark} {', '.join(assertion.requirement_ids)}: {_first_line(assertion.message)}"
        reproduce = assertion.message.rpartition("Reproduce: ")[2]
        if reproduce and reproduce != assertion.message:
            yield f"        {reproduce}"
        return
    text = assertion.message if not assertion.passed else assertion.description
    if assertion.passed:
        text = f"{', '.join(assertion.requirement_ids)}: step {assertion.step!r}: {text}"
    yield f"    {mark} {text}"


def _examples(check: CheckResult, limit: int = 3) -> list[Assertion]:
    return [a for a in check.assertions if not a.passed and a.exchange is not None][:limit]


def _first_line(text: str) -> str:
    return next(iter(text.strip().splitlines()), "")


def run_lines(
    result: RunResult,
    config: Config,
    paths: Mapping[str, Path],
    *,
    details: bool = False,
    verbose: bool = False,
) -> Iterator[str]:
    """What ``run``, ``scenarios`` and ``fuzz`` print when the run is over: each check in
    detail (``details``), the verdict with the figures, what needs the user, the reports."""
    if details:
        for check in result.checks:
            yield from check_lines(check, verbose=verbose)
        yield from _stage_lines(result, config)
    must = result.score("MUST")
    counts = ", ".join(f"{n} {label}" for label, n in result.counts().items() if n)
    yield (
        f"{result.verdict.label.upper()}: MUST {must.passed}/{must.total} ({must.percent:.1f}%), "
        f"{counts or 'no checks'}; {result.requests_sent()} requests "
        f"({result.retries()} retried), {result.runs_created()} journal runs created, against "
        f"{result.target.base_url}"
    )
    if result.setup_error:
        yield setup_error(result.setup_error)
    for item in result.left_behind:
        yield f"left behind: {item.kind} {item.number} ({item.status}): {item.reason}"
    if result.left_behind and result.target.implementation != "reference":
        ledger = config.reports_dir / "ledger.jsonl"
        yield f"retry the cleanup later with: jr-conformance cleanup --ledger {ledger}"
    for problem in result.gate_problems:
        yield f"expected-failures: {problem}"
    warnings = [c for c in result.checks if c.status is Status.WARN]
    if warnings:
        yield (
            f"{len(warnings)} warning(s): SHOULD or MAY requirements not met "
            f"({', '.join(c.id for c in warnings)}); "
            + ("--strict makes them fail the run" if result.strict else "--strict fails on them")
        )
    gated = Status.WARN if result.strict else Status.FAIL
    new_failures = [c for c in result.checks if c.status >= gated]
    if new_failures and config.expected_failures is not None:
        yield "new failures; if they are known, add to the expected-failures file:"
        for check in new_failures:
            yield suggest_entry(check)
    yield from report_lines(paths)
    if result.interrupted:
        yield "interrupted: the reports show what ran before the interruption"


def _stage_lines(result: RunResult, config: Config) -> Iterator[str]:
    kinds = {"scenarios": "scenario", "fuzz": "fuzz"}
    for stage in result.stages:
        if stage.name not in kinds:
            continue
        checks = sum(1 for c in result.checks if c.kind == kinds[stage.name])
        text = f"{stage.name}: {checks} checks, {stage.requests} requests in {stage.wall_s:.1f} s"
        if stage.name == "fuzz":
            text += f" (seed {config.seed}, {config.max_examples} examples per operation)"
        yield text


def report_lines(paths: Mapping[str, Path], what: str = "report") -> Iterator[str]:
    for fmt, path in paths.items():
        yield f"{what} ({fmt}): {path}"


def write_lines(lines: Iterable[str]) -> None:
    for line in lines:
        out(line)
