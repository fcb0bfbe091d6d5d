"""Helpers for the scenario engine's tests (a uniquely named module pytest finds by name)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from conformance._catalogue import Catalogue
from conformance._results import CheckResult
from conformance.scenarios import Scenario, parse_scenario

RunScenarios = Callable[..., list[CheckResult]]


def parse(text: str, catalogue: Catalogue, source: str = "test.yaml") -> Scenario:
    return parse_scenario(textwrap.dedent(text), catalogue=catalogue, source=source)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path
