"""The whole suite against servers that misbehave one way at a time.

Each run goes through `jr-conformance run` in its own process, against a proxy in front of the
reference that sabotages the summary-journal-entry routes (so the preflight passes and the run
scenario carries on) or, for the last case, every route (so the preflight fails). For each: the
run ends within its bounds, memory stays bounded, the affected check fails or errors with a
readable reason and the other passes, the reports are written, and the exit code is the
documented one.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _hostile import BURST, MODES, RETRY_AFTER_S, HostileServer, everything
from conftest import TOKEN

from conformance.reference import ReferenceServer, ReferenceSettings

#: A run scenario that the proxy leaves alone, and an entry scenario it sabotages.
SELECTION = ["create-with-period", "not-found-entries"]
TIMEOUT_S = 1.0
CAP = 1_000_000
#: Generous: a request is bounded by 1 s, and the two scenarios send a dozen.
WALL_LIMIT_S = 40.0
MEMORY_LIMIT_MB = 300


@pytest.fixture(scope="module")
def upstream() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceSettings(tokens=(TOKEN,))) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "jr.toml"
    path.write_text(
        f"timeout_s = {TIMEOUT_S}\nmax_body_bytes = {CAP}\nmax_decompressed_bytes = {CAP}\n"
        "max_retries_429 = 1\nmax_retry_wait_s = 2\ncapabilities = ['journal-entries']\n"
    )
    return path


#: Runs the command line and says, last on stderr, the peak memory of its own process. VmHWM is
#: the high-water mark of this process's own memory; getrusage's ru_maxrss would carry over the
#: parent's peak across exec (Linux), i.e. that of the whole pytest session.
_MEASURED = (
    "import atexit, re, sys\n"
    "from conformance.cli import main\n"
    "def _peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    print('peak-rss-kb', re.search(r'VmHWM:\\s+(\\d+)', status).group(1), file=sys.stderr)\n"
    "atexit.register(_peak)\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _run(url: str, config: Path, reports: Path, *extra: str) -> tuple[int, str, str, float]:
    env = {**os.environ, "JR_TOKEN": TOKEN}
    command = [sys.executable, "-c", _MEASURED, "run", "--base-url", url]
    command += ["--config", str(config), "--reports", str(reports), "--quiet"]
    command += ["--select", *SELECTION, "--cleanup-wait", "5", "--pending-wait", "5", *extra]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def _peak_mb(stderr: str) -> float:
    line = [x for x in stderr.splitlines() if x.startswith("peak-rss-kb ")][-1]
    return int(line.split()[1]) / 1024


def _checks(reports: Path) -> dict[str, dict[str, object]]:
    data = json.loads((reports / "results.json").read_text())
    return {check["id"]: check for check in data["checks"]}


@pytest.mark.parametrize("mode", MODES)
def test_one_misbehaviour_at_a_time(
    mode: str, upstream: ReferenceServer, config: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    with HostileServer(upstream.url, mode) as hostile:
        code, out, err, wall = _run(hostile.url, config, reports)
        served = hostile.bytes_served
        seen = list(hostile.seen)
    assert wall < WALL_LIMIT_S, (mode, wall)
    # Memory: the run's own peak stays small, and the server never got to send more than a
    # few caps' worth of a multi-gigabyte body.
    peak_mb = _peak_mb(err)
    assert peak_mb < MEMORY_LIMIT_MB, (mode, peak_mb)
    assert served < 100 * CAP, (mode, served)
    assert "Traceback" not in out + err, err
    assert code in (0, 1), (mode, code, out, err)  # a verdict, not a setup error
    assert {p.name for p in reports.iterdir()} >= {
        "results.json",
        "junit.xml",
        "report.html",
        "summary.md",
        "ledger.jsonl",
    }
    checks = _checks(reports)
    assert checks["preflight"]["status"] == "pass"
    assert checks["create-with-period"]["status"] == "pass", checks["create-with-period"]
    affected = checks["not-found-entries"]
    assert affected["status"] in ("fail", "error"), (mode, affected)
    assert code == 1
    message = str(affected["message"])
    assert message and "Traceback" not in message and len(message) < 2000, message
    if mode == "429":
        # The retry came only after Retry-After.
        times = [s.at for s in seen if s.sabotaged]
        assert len(times) >= 2 and times[1] - times[0] >= RETRY_AFTER_S * 0.9
    if mode == "503-burst":
        assert 1 <= sum(s.sabotaged for s in seen) <= BURST
    print(f"{mode}: {wall:.1f} s, peak {peak_mb:.0f} MB, {served} bytes served")


def test_a_server_broken_everywhere_is_a_setup_error(
    upstream: ReferenceServer, config: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    with HostileServer(upstream.url, "html-error", affects=everything) as hostile:
        code, out, err, wall = _run(hostile.url, config, reports)
    assert code == 3, (out, err)
    assert "setup error: the target was unavailable: HTTP 502 (text/html)" in out
    assert "Traceback" not in out + err
    assert json.loads((reports / "results.json").read_text())["status"] == "error"
    assert wall < WALL_LIMIT_S


def test_rate_limit_headers_slow_the_suite_down(
    upstream: ReferenceServer, config: Path, tmp_path: Path
) -> None:
    """RateLimit-Remaining at 1 of 100 with 0.4 s to go: each next request waits for it."""
    with HostileServer(upstream.url, "pass", rate_limit=(1, 0.4)) as hostile:
        code, out, err, _ = _run(hostile.url, config, tmp_path / "reports")
        times = [s.at for s in hostile.seen]
    assert code == 0, out + err
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]  # after the first answer
    assert len(gaps) > 5
    assert min(gaps) >= 0.3, gaps


def test_the_fuzz_stage_stays_within_its_time_budget_on_a_silent_server(
    upstream: ReferenceServer, config: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    env = {**os.environ, "JR_TOKEN": TOKEN}
    with HostileServer(upstream.url, "silent") as hostile:
        command = [sys.executable, "-m", "conformance", "run", "--base-url", hostile.url]
        command += ["--config", str(config), "--reports", str(reports), "--quiet"]
        command += ["--select", "fuzz.error-envelope", "--max-examples", "1", "--max-time", "8"]
        command += ["--cleanup-wait", "5", "--pending-wait", "5"]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        wall = time.monotonic() - started
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert wall < WALL_LIMIT_S, wall
    assert (reports / "results.json").is_file()
    print(f"fuzz on a silent server: {wall:.1f} s")


def test_a_transient_gateway_answer_is_retried_and_never_a_failure(
    upstream: ReferenceServer, config: Path, tmp_path: Path
) -> None:
    """A short burst of 503s is retried (and counted); one that outlasts the retries makes the
    affected check an ERROR that says the target was unavailable, never a FAIL."""
    with HostileServer(upstream.url, "503-burst", burst=2) as hostile:
        code, out, err, _ = _run(hostile.url, config, tmp_path / "short")
    assert code == 0, out + err
    data = json.loads((tmp_path / "short" / "results.json").read_text())
    assert sum(stage["retries"] for stage in data["stages"]) == 2
    assert "| Retries |" in (tmp_path / "short" / "summary.md").read_text()

    with HostileServer(upstream.url, "503-burst", burst=1000) as hostile:
        code, out, err, _ = _run(hostile.url, config, tmp_path / "long")
    assert code == 1, out + err
    checks = _checks(tmp_path / "long")
    affected = checks["not-found-entries"]
    assert affected["status"] == "error", affected
    assert "the target was unavailable: HTTP 503" in str(affected["message"])
    assert checks["create-with-period"]["status"] == "pass"
