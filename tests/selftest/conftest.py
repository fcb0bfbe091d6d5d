"""The self-test's tests. ``slow`` ones (the full self-test, many minutes) run only when asked
for with ``-m slow`` (``tox -e selftest`` runs the same thing through the CLI).

They are deselected, not skipped: a skip would read as a check that could not run, and a skip is
never a pass."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
