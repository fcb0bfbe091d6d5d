"""The benchmark script runs and prints every figure with its target (no timing is asserted:
the figures of ``--quick`` mean nothing, and timings belong to the benchmark, not to tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPT = BENCHMARKS / "bench_run.py"

#: Every figure of the issue, and the target printed beside it (None: a detail, no target).
FIGURES = {
    "full run: wall, reports included": "<= 12",
    "  start-up": None,
    "  scenarios": None,
    "  fuzzing": None,
    "  cleanup": None,
    "  reports": None,
    "scenario engine / plain httpx": "<= 1.3",
    "  the same, reference in this process": None,
    "polling: lateness - 10% of waited, p95": "<= 50",
    "  lateness p50 / p95 / max": None,
    "requests at 0.3 s delay / no delay": "<= 1.5",
    "8 tenants / 1 at a time": ">= 4",
    "rate 300/min, external target": "<= 15",
    "rate 300/min, fresh tenants": "<= 15",
    "  requests per stage in the report": None,
    "fuzz stage / schemathesis alone": "<= 1.15",
}


@pytest.fixture(scope="module")
def quick() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_quick_mode_prints_every_figure_with_its_target(
    quick: subprocess.CompletedProcess[str],
) -> None:
    assert quick.returncode in (0, 1), quick.stderr  # 1: a target missed, which --quick may
    lines = quick.stdout.splitlines()
    for name, target in FIGURES.items():
        line = next((line for line in lines if line.startswith(name)), None)
        assert line is not None, f"{name!r} not printed:\n{quick.stdout}"
        assert re.search(r"\d", line[len(name) :]), line  # a value
        if target is not None:
            assert target in line, line
            assert re.search(r"\b(PASS|MISS)\b", line), line


def test_quick_mode_ends_with_the_count_of_missed_targets(
    quick: subprocess.CompletedProcess[str],
) -> None:
    last = quick.stdout.splitlines()[-1]
    missed = sum(" MISS" in line for line in quick.stdout.splitlines())
    assert last.startswith(f"{missed} target(s) missed"), last
    assert quick.returncode == (1 if missed else 0)


def test_unknown_figure_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "nonsense"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--only takes full, engine" in done.stderr


def test_peak_and_p95() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_run
    finally:
        sys.path.remove(str(BENCHMARKS))
    # Windows are half-open: an arrival exactly one window later starts a new one.
    assert bench_run._peak([0.0, 0.5, 1.0, 1.2, 3.0], 1.0) == 3
    assert bench_run._peak([], 60.0) == 0
    assert bench_run._p95([float(i) for i in range(1, 21)]) == 19.0
    assert bench_run._p95([5.0]) == 5.0
