"""write_reports: every format into one folder, atomically; bad formats and folders are errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import RunResult, UsageError
from conformance.report import write_reports


def test_writes_every_format(tmp_path: Path, mixed_run: RunResult) -> None:
    out = tmp_path / "a" / "reports"
    written = write_reports(mixed_run, out)
    assert written == {
        "json": out / "results.json",
        "junit": out / "junit.xml",
        "html": out / "report.html",
        "markdown": out / "summary.md",
        "har": out / "exchanges.har",
        "badge": out / "badge.json",
    }
    assert sorted(p.name for p in out.iterdir()) == [
        "badge.json",
        "exchanges.har",
        "junit.xml",
        "report.html",
        "results.json",
        "summary.md",
    ]  # no temporary file left behind
    assert json.loads((out / "results.json").read_text())["run_id"] == "jrc-0001"
    assert (out / "report.html").stat().st_mode & 0o044 == 0o044  # readable by others


def test_writes_only_what_is_asked_and_replaces_old_files(
    tmp_path: Path, pass_run: RunResult
) -> None:
    (tmp_path / "summary.md").write_text("old")
    written = write_reports(pass_run, tmp_path, ["markdown"])
    assert written == {
        "markdown": tmp_path / "summary.md",
        "har": tmp_path / "exchanges.har",  # these two on every run
        "badge": tmp_path / "badge.json",
    }
    assert (tmp_path / "summary.md").read_text().startswith("## Journal Runs conformance: PASS")
    assert not (tmp_path / "results.json").exists()


def test_an_unknown_format_writes_nothing(tmp_path: Path, pass_run: RunResult) -> None:
    with pytest.raises(UsageError, match=r"unknown report format 'pdf' \(choose from json, "):
        write_reports(pass_run, tmp_path / "out", ["json", "pdf"])
    assert not (tmp_path / "out").exists()


def test_an_unwritable_folder_is_a_usage_error(tmp_path: Path, pass_run: RunResult) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UsageError, match="cannot write reports to"):
        write_reports(pass_run, blocker / "reports")
