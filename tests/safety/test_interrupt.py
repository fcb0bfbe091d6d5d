"""An interrupted run (SIGINT, SIGTERM) stops at the next boundary, still cleans up what it
created, writes its reports and exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TOKEN

from conformance._http import BearerToken, HttpSettings, Request, Session
from conformance._ledger import load_ledger
from conformance.reference import ReferenceServer, ReferenceSettings

SELECTION = [
    "create-with-period",
    "delete-after-cancel",
    "cancel-completed-run",
    "create-revenue-event-item",
    "create-unknown-field-ignored",
]


@pytest.fixture
def slow_reference() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceSettings(tokens=(TOKEN,), delay=0.3)) as server:
        yield server


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_cleans_up_and_reports(
    signum: int, slow_reference: ReferenceServer, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "conformance", "run", "--base-url", slow_reference.url]
    command += ["--reports", str(reports), "--jsonl", "--select", *SELECTION]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "JR_TOKEN": TOKEN},
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        for line in process.stdout:  # the progress events, one JSON object a line
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("event") == "check" and event.get("id") != "preflight":
                break
            assert time.monotonic() < deadline, "no scenario finished within 60 s"
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in out + err
    data = json.loads((reports / "results.json").read_text())
    statuses = {check["id"]: check["status"] for check in data["checks"]}
    assert statuses["preflight"] == "pass"
    assert list(statuses.values()).count("skip") >= 2, statuses  # not started
    assert any("interrupted" in check["message"] for check in data["checks"])
    assert (reports / "report.html").is_file() and (reports / "junit.xml").is_file()
    # Everything the run created was cleaned (the idle check's run, the scenarios' runs) ...
    items, lost = load_ledger(reports / "ledger.jsonl")
    assert len(items) >= 2 and not lost
    assert {item.state for item in items} == {"cleaned"}, items
    assert data["left_behind"] == []
    # ... and is really gone.
    settings = HttpSettings(base_url=slow_reference.url)
    with Session(settings, BearerToken(TOKEN)) as session:
        for item in items:
            answer = session.do(Request("GET", f"/v1/journal-runs/{item.number}"))
            assert answer.status_code == 404, item


def test_ctrl_c_during_the_fuzz_stage_on_the_embedded_reference_still_reports(
    tmp_path: Path,
) -> None:
    """Ctrl-C reaches the whole process group: the reference's process and the fuzz stage's
    second one ignore it, the stage ends its passes under way, and the run reports."""
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "conformance", "run", "--reports", str(reports), "--jsonl"]
    command += ["--select", "fuzz.lifecycle", "fuzz.server-errors"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    ledger = reports / "ledger.jsonl"
    try:
        # The runs schemathesis creates reach the ledger as they are created: with a few there,
        # a pass is under way.
        deadline = time.monotonic() + 60
        while not ledger.is_file() or len(ledger.read_text().splitlines()) < 10:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the fuzz stage created nothing within 60 s"
            time.sleep(0.05)  # polling the file the run writes, with a deadline
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in out + err
    data = json.loads((reports / "results.json").read_text())
    assert data["interrupted"] is True
    fuzz = {c["id"]: c for c in data["checks"] if c["id"].startswith("fuzz.")}
    assert set(fuzz) == {"fuzz.lifecycle", "fuzz.server-errors"}, fuzz
    assert (reports / "report.html").is_file()
