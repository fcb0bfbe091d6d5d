"""Passes of the stage in a second process, on a second tenant of the stage's own.

Against a server on the same machine (the embedded reference) the stage is CPU-bound in one
interpreter: schemathesis and Hypothesis draw every case under one lock, whatever the threads.
With a second core, the stateful and legacy passes run in a process of their own, on a tenant of
their own, beside the other passes. Each process judges its own tenant's exchanges in order
with its own lifecycle model (as it would on one tenant), and the stage adds what this one
judged to its own tallies when it is done (:meth:`~._judge.Judge.absorb`).

What the process saw comes back at its end, not as it happens: its exchanges for the evidence,
and what it created for the run's ledger. That is why only a target whose tenants are free and
the suite's own gets a second process (the embedded reference), and never under pacing, which
one process could not share with another.
"""

from __future__ import annotations

import signal
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from .. import _processes
from .._redact import Redactor
from .._results import Exchange
from ._execute import run_passes
from ._judge import Judgement, Verdict
from ._options import FuzzOptions, FuzzTarget, Stop
from ._passes import Pass

#: The passes that go to the second process: the stateful pass (the longest but one, and with
#: the runs it creates, the one that needs a tenant to itself) and the small legacy pass, so
#: that the two processes have about the same to do.
AWAY_PASSES = ("stateful", "legacy")
#: How often the stage, waiting for the process, looks whether it was told to stop.
_POLL_S = 0.1
#: How long a process told to stop may take to say what it did before it is ended.
_STOP_GRACE_S = 30.0


@dataclass
class Part:
    """What the second process brings back."""

    judgement: Judgement | None = None
    #: Requests its session sent.
    requests: int = 0
    stop_reasons: dict[str, str] = field(default_factory=dict)
    not_deleted: dict[str, str] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    #: ``(method, path, status, body)`` of each exchange, in order: for the run's ledger.
    observed: list[tuple[str, str, int | None, Any]] = field(default_factory=list)
    #: Every exchange it recorded, redacted there, with its verdicts and context: the evidence.
    records: list[tuple[Exchange, list[Verdict], str]] = field(default_factory=list)
    #: Secrets its redaction learnt (a fetched token), so this process's redaction knows them.
    secrets: list[str] = field(default_factory=list)
    #: Why it brought back nothing: the process's error, said in a line.
    error: str | None = None


def split(todo: list[Pass]) -> tuple[list[Pass], list[Pass]]:
    """``todo`` as the passes that stay and those that go to a second process."""
    moved = [run for run in todo if run.name in AWAY_PASSES]
    if not any(run.name == "stateful" for run in moved):
        return todo, []
    return [run for run in todo if run not in moved], moved


class Away:
    """The second process: started at once, running ``todo`` on ``target``'s tenant."""

    def __init__(
        self,
        spec: Mapping[str, Any],
        target: FuzzTarget,
        options: FuzzOptions,
        todo: list[Pass],
        deadline: float | None,
    ) -> None:
        # A fork where sound (the stage starts it before any thread of its own): the process
        # starts with schemathesis imported and the spec loaded.
        context = _processes.context()
        self._stop = context.Event()
        self._pipe, child_end = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_main,
            args=(child_end, self._stop, dict(spec), target, options, todo, deadline),
            name="jr-fuzz-away",
            daemon=True,
        )
        self._process.start()
        child_end.close()

    def finish(self, stop: Stop | None) -> Part:
        """Wait for the process and return what it brings back (told to stop when ``stop`` is
        set: it ends its schemathesis scenario under way, and says what it did)."""
        told = None
        while not self._pipe.poll(_POLL_S):
            if not self._process.is_alive():
                break
            if stop is not None and stop.is_set() and told is None:
                self._stop.set()
                told = time.monotonic()
            if told is not None and time.monotonic() - told > _STOP_GRACE_S:
                break
        part = Part(error="the process ended without saying what it did")
        if self._pipe.poll(0):
            try:
                part = self._pipe.recv()
            except (EOFError, OSError) as exc:
                part = Part(error=f"its answer was lost ({exc or type(exc).__name__})")
        self.close()
        return part

    def close(self) -> None:
        """End the process (at once, if it is still running) and free its pipe."""
        self._stop.set()
        self._process.join(_POLL_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._pipe.close()


def _main(
    pipe: Connection,
    stop: Stop,
    spec: dict[str, Any],
    target: FuzzTarget,
    options: FuzzOptions,
    todo: list[Pass],
    deadline: float | None,
) -> None:
    """The second process: run the passes, say what they did, exit."""
    # Ctrl-C reaches the whole process group: the stage decides when this process stops. A
    # fork has the stage's handlers: not this process's to run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    part = Part()
    redactor = Redactor([target.token])
    try:
        with target.session(redactor) as session:
            ran = run_passes(
                spec,
                target,
                options,
                session,
                todo,
                deadline=deadline,
                observe=lambda *seen: part.observed.append(seen),
                stop=stop,
                record=lambda *recorded: part.records.append(recorded),
            )
            part.requests = session.requests_sent
        part.judgement = ran.judge.judgement()
        part.stop_reasons = ran.stop_reasons
        part.not_deleted = ran.judge.rules.left_behind()
        part.gone = ran.gone
    except BaseException as exc:  # whatever it is, the stage reports it: never a lost process
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
        part = Part(error=redactor.scrub(f"{type(exc).__name__}: {exc}{where}"))
    part.secrets = redactor.secrets
    pipe.send(part)
    pipe.close()
