"""What the user sees while a run is going: a live line, one line per check, or JSON lines.

Progress is an observer of the engine; it never decides anything. Modes:

- ``auto``: on a terminal (stderr a TTY), a live bar per stage drawn with ``rich``: done/total,
  failures so far, time spent and time left, with each check that did not pass printed above the
  bars; otherwise (CI logs) one line per finished check.
- ``quiet``: nothing but the final verdict.
- ``jsonl``: one JSON object per event on stdout, for machines.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

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

from ._results import CheckResult, Status
from .report._evidence import one_line


class _Bars:
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


class Progress:
    """Thread-safe: scenarios finish on worker threads. :meth:`close` ends the live display."""

    def __init__(self, mode: str = "auto", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.mode = mode
        self._live = mode == "auto" and self.stream.isatty()
        self._bars: _Bars | None = None
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stage = ""
        self._total = 0
        self._done = 0
        self._failures = 0
        self._exchanges = 0
        self._violations = 0

    def _display(self) -> _Bars:
        if self._bars is None:
            self._bars = _Bars(self.stream)
        return self._bars

    def close(self) -> None:
        """Stop the live bars (nothing to do in the other modes); safe to call twice."""
        with self._lock:
            if self._bars is not None:
                self._bars.close()
                self._bars = None

    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "t": round(time.monotonic() - self._started, 3), **fields}
        print(json.dumps(record, sort_keys=True), file=sys.stdout, flush=True)

    def stage(self, name: str, total: int = 0) -> None:
        with self._lock:
            self._stage, self._total, self._done = name, total, 0
            self._exchanges = self._violations = 0
            if self._live:
                self._display().stage(name, total)
            elif self.mode == "jsonl":
                self._emit("stage", stage=name, total=total)
            elif self.mode != "quiet":
                self._line(f"== {name}" + (f" ({total})" if total else ""))

    def check_done(self, check: CheckResult) -> None:
        with self._lock:
            self._done += 1
            if check.status >= Status.FAIL:
                self._failures += 1
            if self.mode == "jsonl":
                self._emit(
                    "check",
                    id=check.id,
                    status=check.status.label,
                    requirements=list(check.all_requirement_ids()),
                    message=check.message,
                    duration_s=round(check.duration_s, 3),
                )
            elif self._live:
                bars = self._display()
                if check.status is not Status.PASS:
                    text = f"{check.status.label.upper():5} {check.id}"
                    bars.line(text + (f": {one_line(check.message)}" if check.message else ""))
                bars.advance(self._done, self._failures, self._exchanges)
            elif self.mode != "quiet":
                count = f"[{self._done}/{self._total}]" if self._total else f"[{self._done}]"
                text = f"{count} {check.status.label.upper():5} {check.id}"
                if check.status is not Status.PASS and check.message:
                    text += f": {check.message}"
                self._line(text)

    def exchange(self, violated: bool = False) -> None:
        """One more exchange of a stage whose checks settle only at its end (the fuzz stage):
        the live bar counts them, and those that violated a MUST, so it visibly moves."""
        with self._lock:
            self._exchanges += 1
            self._violations += violated
            if self._live and self._bars is not None and self._exchanges % 10 == 0:
                text = f"{self._exchanges} requests"
                if self._violations:
                    text += f", {self._violations} violating"
                self._bars.detail(text)

    def message(self, text: str) -> None:
        with self._lock:
            if self.mode == "jsonl":
                self._emit("message", text=text)
            elif self._live:
                self._display().line(one_line(text, 400))
            elif self.mode != "quiet":
                self._line(text)

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
