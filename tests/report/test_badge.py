"""badge.json: a shields.io endpoint file with the MUST score, written on every run."""

from __future__ import annotations

import json
from pathlib import Path

from report_samples import make_check, ok

from conformance import RunResult
from conformance._results import Status
from conformance.report import write_reports
from conformance.report._badge import badge_dict


def test_a_passing_run_is_green_with_its_must_score(tmp_path: Path, pass_run: RunResult) -> None:
    path = write_reports(pass_run, tmp_path, ["json"])["badge"]
    assert path == tmp_path / "badge.json"
    assert json.loads(path.read_text()) == {
        "schemaVersion": 1,
        "label": "conformance",
        "message": "MUST 5/5",
        "color": "brightgreen",
    }


def test_the_colour_follows_the_verdict(mixed_run: RunResult, pass_run: RunResult) -> None:
    must = pass_run.score("MUST")
    assert badge_dict(pass_run)["message"] == f"MUST {must.passed}/{must.total}"
    assert badge_dict(mixed_run) == {
        "schemaVersion": 1,
        "label": "conformance",
        "message": "MUST 2/5",
        "color": "red",
    }
    warned = make_check("create-should", ok("JR-CREATE-001"))
    warned.status = Status.WARN
    pass_run.checks.append(warned)
    assert badge_dict(pass_run)["color"] == "yellow"
    pass_run.strict = True
    assert badge_dict(pass_run)["color"] == "red"


def test_a_setup_error_says_so(empty_run: RunResult) -> None:
    assert badge_dict(empty_run) == {
        "schemaVersion": 1,
        "label": "conformance",
        "message": "setup error",
        "color": "lightgrey",
    }


def test_an_interrupted_run_says_so(pass_run: RunResult) -> None:
    pass_run.interrupted = True
    assert badge_dict(pass_run)["message"].endswith("(interrupted)")
