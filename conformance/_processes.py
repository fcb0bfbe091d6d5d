"""Processes of the suite's own (the embedded reference, a part of the fuzz stage): how to start
one soundly here."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from multiprocessing.context import ForkContext, SpawnContext


def forks_safely() -> bool:
    """Whether a fork here gives a sound child: on Linux (macOS's system libraries are not
    fork-safe), with no other thread whose locks the child would inherit held."""
    return sys.platform == "linux" and threading.active_count() == 1


def fork_context() -> ForkContext | None:
    """The context that forks, where a fork is sound (the child starts at once, with what this
    process imported and loaded); ``None`` elsewhere."""
    if not forks_safely():
        return None
    # What is buffered would be written again by the child.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    return multiprocessing.get_context("fork")


def context() -> ForkContext | SpawnContext:
    """A fork where that is sound, else a fresh interpreter."""
    return fork_context() or multiprocessing.get_context("spawn")
