"""Fixtures: fresh sample runs (see report_samples.py) for every test."""

from __future__ import annotations

import pytest
from report_samples import sample_empty_run, sample_mixed_run, sample_pass_run

from conformance import RunResult


@pytest.fixture
def pass_run() -> RunResult:
    return sample_pass_run()


@pytest.fixture
def mixed_run() -> RunResult:
    return sample_mixed_run()


@pytest.fixture
def empty_run() -> RunResult:
    return sample_empty_run()
