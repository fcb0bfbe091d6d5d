"""Fixtures for the safety tests: the test helpers in tests/ (misbehaving and hostile servers),
a reference server with static tokens, and a clean environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # _servers, _hostile

from conformance.reference import ReferenceServer, ReferenceSettings

TOKEN = "safety-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JR_BASE_URL", "JR_TOKEN", "JR_CLIENT_ID", "JR_CLIENT_SECRET", "JR_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def reference() -> Iterator[ReferenceServer]:
    """An external-looking target, fresh for each test: one tenant per static token."""
    with ReferenceServer(ReferenceSettings(tokens=(TOKEN, TOKEN + "-other"))) as server:
        yield server
