"""What the user sees while a run is going: a live line, one line per check, or JSON lines.

Progress is an observer of the engine; it never decides anything. Modes:

- ``auto``: a live status line on a terminal; one line per finished check otherwise (CI logs).
- ``quiet``: nothing but the final verdict.
- ``jsonl``: one JSON object per event on stdout, for machines.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

from ._results import CheckResult, Status


class Progress:
    """Thread-safe: scenarios finish on worker threads."""

    def __init__(self, mode: str = "auto", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.mode = mode
        self._live = mode == "auto" and self.stream.isatty()
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stage = ""
        self._total = 0
        self._done = 0
        self._failures = 0

    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "t": round(time.monotonic() - self._started, 3), **fields}
        print(json.dumps(record, sort_keys=True), file=sys.stdout, flush=True)

    def stage(self, name: str, total: int = 0) -> None:
        with self._lock:
            self._stage, self._total, self._done = name, total, 0
            if self.mode == "jsonl":
                self._emit("stage", stage=name, total=total)
            elif self.mode != "quiet":
                self._line(f"== {name}" + (f" ({total})" if total else ""), final=True)

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
            elif self.mode != "quiet":
                count = f"[{self._done}/{self._total}]" if self._total else f"[{self._done}]"
                text = f"{count} {check.status.label.upper():5} {check.id}"
                if check.status is not Status.PASS and check.message:
                    text += f": {check.message}"
                show = not self._live or check.status is not Status.PASS
                if show:
                    self._line(text, final=True)
                self._line(
                    f"{self._stage}: {self._done}/{self._total or '?'} done, "
                    f"{self._failures} failing",
                    final=False,
                )

    def message(self, text: str) -> None:
        with self._lock:
            if self.mode == "jsonl":
                self._emit("message", text=text)
            elif self.mode != "quiet":
                self._line(text, final=True)

    def _line(self, text: str, *, final: bool) -> None:
        if self._live:
            end = "\n" if final else ""
            self.stream.write("\r\x1b[2K" + text[:200] + end)
            self.stream.flush()
        elif final:
            print(text, file=self.stream, flush=True)
