"""report/_console.py: the one place the suite words and writes terminal lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_samples import bad, make_check, ok

from conformance import RunResult, load_config
from conformance._exceptions import SetupError
from conformance.report import _console as console


def test_run_lines_read_the_verdict_and_say_what_needs_the_user(mixed_run: RunResult) -> None:
    config = load_config({}, env={})
    lines = list(console.run_lines(mixed_run, config, {"json": Path("r/results.json")}))
    assert lines[0].startswith(f"{mixed_run.verdict.label.upper()}: MUST ")
    assert "report (json): r/results.json" in lines
    assert not any(line.startswith("ERROR  ") for line in lines)  # no details unless asked


def test_details_show_each_check_and_its_failed_assertions(mixed_run: RunResult) -> None:
    config = load_config({}, env={})
    lines = list(console.run_lines(mixed_run, config, {}, details=True))
    failed = next(c for c in mixed_run.checks if c.failed_assertions)
    assert any(line.startswith(f"FAIL   {failed.id} (") for line in lines)
    assert f"    FAIL {failed.failed_assertions[0].message}" in lines


def test_verbose_lists_passed_assertions_with_their_requirements() -> None:
    check = make_check("create-ok", ok("JR-CREATE-001"), bad("JR-CREATE-002"))
    quiet = console.check_lines(check)
    loud = console.check_lines(check, verbose=True)
    assert len(loud) == len(quiet) + 1
    assert any(line.startswith("    ok   JR-CREATE-001: step") for line in loud)


def test_one_writer_for_stdout_and_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    console.write_lines(["a", "b"])
    console.err(console.error_line(SetupError("cannot reach the target")))
    captured = capsys.readouterr()
    assert captured.out == "a\nb\n"
    assert captured.err == "jr-conformance: SetupError: cannot reach the target\n"
