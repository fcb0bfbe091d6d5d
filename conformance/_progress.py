"""What the user sees while a run is going: a live line, one line per check, or JSON lines.

Progress is an observer of the engine; it never decides anything. Modes:

- ``auto``: on a terminal (stderr a TTY), a live bar per stage drawn with ``rich``: done/total,
  failures so far, time spent and time left, with each check that did not pass printed above the
  bars; otherwise (CI logs) one line per finished check.
- ``quiet``: nothing but the final verdict.
- ``jsonl``: one JSON object per event on stdout, for machines.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from ._results import CheckResult, Status
from .report import _console as console
from .report._evidence import one_line


class Progress:
    """Thread-safe: scenarios finish on worker threads. :meth:`close` ends the live display."""

    def __init__(self, mode: str = "auto", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.mode = mode
        self._live = mode == "auto" and self.stream.isatty()
        self._bars: console.Bars | None = None
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stage = ""
        self._total = 0
        self._done = 0
        self._failures = 0
        self._exchanges = 0
        self._violations = 0

    def _display(self) -> console.Bars:
        if self._bars is None:
            self._bars = console.Bars(self.stream)
        return self._bars

    def close(self) -> None:
        """Stop the live bars (nothing to do in the other modes); safe to call twice."""
        with self._lock:
            if self._bars is not None:
                self._bars.close()
                self._bars = None

    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "t": round(time.monotonic() - self._started, 3), **fields}
        console.event(record)

    def stage(self, name: str, total: int = 0) -> None:
        with self._lock:
            self._stage, self._total, self._done = name, total, 0
            self._exchanges = self._violations = 0
            if self._live:
                self._display().stage(name, total)
            elif self.mode == "jsonl":
                self._emit("stage", stage=name, total=total)
            elif self.mode != "quiet":
                self._line(console.stage_line(name, total))

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
                    bars.line(console.live_line(check))
                bars.advance(self._done, self._failures, self._exchanges)
            elif self.mode != "quiet":
                self._line(console.done_line(check, self._done, self._total))

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
        console.err(text, self.stream)
