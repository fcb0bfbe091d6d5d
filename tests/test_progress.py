"""Progress: live rich bars on a terminal, one line per check elsewhere, JSON lines unchanged."""

from __future__ import annotations

import io
import json

import pytest

from conformance._progress import Progress
from conformance._results import CheckResult, Status


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _check(check_id: str, status: Status = Status.PASS, message: str = "") -> CheckResult:
    return CheckResult(
        check_id, check_id, "scenario", "cancel", ("JR-CANCEL-001",), status, message
    )


def _drive(progress: Progress) -> None:
    progress.stage("preflight")
    progress.check_done(_check("preflight"))
    progress.stage("scenarios", total=3)
    progress.check_done(_check("a"))
    progress.check_done(_check("b", Status.FAIL, "expected 200, got 500"))
    progress.message("a note")
    progress.check_done(_check("c", Status.WARN, "a SHOULD"))
    progress.close()


def test_on_a_terminal_a_live_bar_per_stage_with_counts_and_failures() -> None:
    stream = Terminal()
    _drive(Progress("auto", stream))
    out = stream.getvalue()
    assert "scenarios" in out and "3/3" in out and "1 failing" in out
    assert "preflight" in out and "1/1" in out
    assert "left" in out  # the time-left column
    # Checks that did not pass, and messages, are printed above the bars; passes are not.
    assert "FAIL  b: expected 200, got 500" in out
    assert "WARN  c: a SHOULD" in out
    assert "a note" in out
    assert "PASS" not in out


def test_a_servers_escape_sequence_never_reaches_the_terminal() -> None:
    stream = Terminal()
    progress = Progress("auto", stream)
    progress.stage("scenarios", total=1)
    progress.check_done(_check("b", Status.FAIL, "got \x1b]0;owned\x07 \x1b[2J here"))
    progress.close()
    out = stream.getvalue()
    assert "owned" in out and "here" in out
    assert "\x1b]0;" not in out and "\x1b[2J" not in out


def test_in_a_ci_log_one_line_per_check_as_before() -> None:
    stream = io.StringIO()  # not a terminal
    _drive(Progress("auto", stream))
    assert stream.getvalue().splitlines() == [
        "== preflight",
        "[1] PASS  preflight",
        "== scenarios (3)",
        "[1/3] PASS  a",
        "[2/3] FAIL  b: expected 200, got 500",
        "a note",
        "[3/3] WARN  c: a SHOULD",
    ]


def test_jsonl_is_unchanged_and_the_terminal_stays_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = Terminal()
    _drive(Progress("jsonl", stream))
    assert stream.getvalue() == ""
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["event"] for e in events] == [
        "stage",
        "check",
        "stage",
        "check",
        "check",
        "message",
        "check",
    ]
    assert events[4]["status"] == "fail" and events[4]["id"] == "b"


def test_quiet_prints_nothing_and_close_is_idempotent() -> None:
    stream = Terminal()
    progress = Progress("quiet", stream)
    _drive(progress)
    progress.close()
    assert stream.getvalue() == ""


def test_the_fuzz_bar_counts_requests_and_violations_while_its_checks_wait() -> None:
    stream = Terminal()
    progress = Progress("auto", stream)
    progress.stage("fuzz", total=2)
    for n in range(25):
        progress.exchange(violated=n < 3)
    progress.close()
    assert "0/2" in stream.getvalue()
    assert "20 requests, 3 violating" in stream.getvalue()


def test_the_request_count_stays_once_the_checks_are_in() -> None:
    stream = Terminal()
    progress = Progress("auto", stream)
    progress.stage("fuzz", total=1)
    for _ in range(12):
        progress.exchange()
    progress.check_done(_check("fuzz.x", Status.FAIL, "violated"))
    progress.close()
    assert "1 failing, 12 requests" in stream.getvalue()


def test_requests_are_not_logged_line_by_line_in_ci_or_jsonl(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for mode in ("auto", "jsonl", "quiet"):
        stream = io.StringIO()
        progress = Progress(mode, stream)
        for _ in range(30):
            progress.exchange()
        progress.close()
        assert stream.getvalue() == ""
    assert capsys.readouterr().out == ""
