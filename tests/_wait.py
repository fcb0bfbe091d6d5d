"""``wait_until``: the one polling loop of the tests (a deadline, a pause, a clear failure)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout_s: float = 10.0,
    interval_s: float = 0.02,
    message: str | Callable[[], str] = "the condition never held",
) -> T:
    """Call ``predicate`` every ``interval_s`` until it returns something truthy, and return that;
    fail the test (``AssertionError`` with ``message``, or what it returns, and the time waited)
    when ``timeout_s`` has passed first. The predicate is always called once more at the end."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} (waited {timeout_s:g} s)")
        time.sleep(interval_s)
