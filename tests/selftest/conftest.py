"""The self-test's tests. ``slow`` ones (the full self-test, many minutes) run only when asked
for with ``-m slow`` (``tox -e selftest`` runs the same thing through the CLI)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="the full self-test takes many minutes: run with -m slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
