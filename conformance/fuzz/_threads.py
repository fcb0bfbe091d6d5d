"""What running schemathesis with several workers needs on this Python.

CPython before 3.11.9 / 3.12.1 can fail a ``compile()`` to an AST when two threads do it at once
("SystemError: AST constructor recursion depth mismatch", python/cpython#106905). Hypothesis
parses source code from its workers' threads (the lambdas of ``.filter(lambda ...)`` in
schemathesis's coverage phase, to describe them and to read bounds out of them), so workers hit
it: an operation errors out instead of being tested. While the stage runs, ``ast.parse`` calls
take turns.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.RLock()


def _affected() -> bool:
    version = sys.version_info[:3]
    return version < (3, 11, 9) or (3, 12, 0) <= version < (3, 12, 1)


@contextmanager
def serial_ast_parsing() -> Iterator[None]:
    """Make ``ast.parse`` take turns across threads (a no-op on a Python without the bug)."""
    if not _affected():
        yield
        return
    original = ast.parse

    @functools.wraps(original)
    def serial(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(*args, **kwargs)

    ast.parse = serial
    try:
        yield
    finally:
        ast.parse = original
