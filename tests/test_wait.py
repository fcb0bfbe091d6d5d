"""tests/_wait.py: the tests' one polling loop."""

from __future__ import annotations

import itertools

import pytest
from _wait import wait_until


def test_returns_the_first_truthy_answer() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "done", 5, 0) == "done"


def test_fails_at_the_deadline_with_the_message() -> None:
    seen: list[int] = []
    with pytest.raises(AssertionError, match=r"still 0 \(waited 0.05 s\)"):
        wait_until(lambda: seen.append(0), 0.05, 0.01, lambda: f"still {len(seen) and 0}")
    assert len(seen) >= 2  # asked again after the first no
