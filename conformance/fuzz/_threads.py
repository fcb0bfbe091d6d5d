"""What running schemathesis with several workers needs on this Python.

CPython before 3.11.9 / 3.12.1 can fail a ``compile()`` to an AST when two threads do it at once
("SystemError: AST constructor recursion depth mismatch", python/cpython#106905). Hypothesis
parses the source of every lambda it describes (``.filter(lambda ...)`` in schemathesis's
coverage phase), so workers hit it: an operation errors out instead of being tested. While the
stage runs, those parses take turns.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()


@contextmanager
def serial_lambda_parsing() -> Iterator[None]:
    """Make Hypothesis's lambda-source parsing take turns across threads (a no-op on a Python
    without the bug, or a Hypothesis without that internal)."""
    if sys.version_info >= (3, 12, 1) or (3, 11, 9) <= sys.version_info < (3, 12):
        yield
        return
    try:
        from hypothesis.internal import lambda_sources

        original: Callable[..., Any] = lambda_sources._lambda_description
    except (ImportError, AttributeError):  # pragma: no cover - another Hypothesis
        yield
        return

    @functools.wraps(original)
    def serial(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(*args, **kwargs)

    lambda_sources._lambda_description = serial
    try:
        yield
    finally:
        lambda_sources._lambda_description = original
