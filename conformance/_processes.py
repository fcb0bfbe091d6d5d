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


def context() -> ForkContext | SpawnContext:
    """A fork where that is sound (the child starts at once, with what this process imported
    and loaded), else a fresh interpreter."""
    if forks_safely():
        # What is buffered would be written again by the child.
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
