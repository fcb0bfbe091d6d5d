"""diff: aligned by check ID; exit 1 only for new failures; bad files are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_samples import bad, make_check, make_run, ok

from conformance import RunResult, Status
from conformance.cli import main
from conformance.report import diff_results, render_json


def _runs() -> tuple[RunResult, RunResult]:
    old = make_run(
        [
            make_check("stays-ok", ok("JR-CREATE-001")),
            make_check("breaks", ok("JR-CREATE-002")),
            make_check("gets-fixed", bad("JR-CANCEL-001"), area="cancel"),
            make_check("fail-to-error", bad("JR-CANCEL-002"), area="cancel"),
            make_check("goes-away", ok("JR-DELETE-001"), area="delete"),
        ],
        run_id="old",
    )
    new = make_run(
        [
            make_check("stays-ok", ok("JR-CREATE-001")),
            make_check("breaks", bad("JR-CREATE-002")),
            make_check("gets-fixed", ok("JR-CANCEL-001"), area="cancel"),
            make_check("fail-to-error", area="cancel", reqs=("JR-CANCEL-002",)),
            make_check("brand-new", bad("JR-CREATE-003")),
            make_check("new-and-fine", ok("JR-CANCEL-003"), area="cancel"),
        ],
        run_id="new",
    )
    return old, new


def test_changes_are_sorted_into_kinds() -> None:
    diff = diff_results(*_runs())
    assert [(c.id, c.old, c.new) for c in diff.new_failures] == [
        ("breaks", Status.PASS, Status.FAIL),
        ("brand-new", None, Status.FAIL),
    ]
    assert [(c.id, c.old, c.new) for c in diff.fixed] == [("gets-fixed", Status.FAIL, Status.PASS)]
    assert [(c.id, c.old, c.new) for c in diff.changed] == [
        ("fail-to-error", Status.FAIL, Status.ERROR)
    ]
    assert [c.id for c in diff.added] == ["brand-new", "new-and-fine"]
    assert [(c.id, c.old, c.new) for c in diff.removed] == [("goes-away", Status.PASS, None)]
    assert [str(r) for r in diff.requirements] == [
        "JR-CREATE-002: pass -> fail",
        "JR-CREATE-003: not covered -> warn",  # a SHOULD: a warning
        "JR-CANCEL-001: fail -> pass",
        "JR-CANCEL-002: fail -> error",
        "JR-CANCEL-003: not covered -> pass",
        "JR-DELETE-001: pass -> not covered",
    ]
    assert diff.regressed


def test_the_text_names_everything() -> None:
    text = diff_results(*_runs()).render_text()
    assert text.startswith("Comparing run old (old) with run new (new).")
    assert "  MUST   3/5 (60.0%) -> 2/5 (40.0%)" in text
    assert "New failures (2):\n  breaks: pass -> fail: expected 201, got 500\n" in text
    assert "  brand-new: absent -> fail" in text
    assert "Fixed (1):\n  gets-fixed: fail -> pass\n" in text
    assert "Removed checks (1):\n  goes-away: pass -> absent\n" in text
    assert text.endswith("REGRESSED: 2 new failure(s)")


def test_server_text_cannot_drive_the_terminal() -> None:
    old, new = _runs()
    new.checks[1].message = "boom\x1b[2J\x1b]0;title\x07\nsecond line"
    text = diff_results(old, new).render_text()
    assert "\x1b" not in text and "\x07" not in text
    assert "breaks: pass -> fail: boom\ufffd[2J\ufffd]0;title\ufffd second line" in text


def test_fixes_alone_are_no_regression() -> None:
    old, new = _runs()
    diff = diff_results(new, new)
    assert not diff.regressed
    assert "No differences in checks or requirements." in diff.render_text()
    fixed_only = diff_results(old, make_run([make_check("gets-fixed", ok("JR-CANCEL-001"))]))
    assert not fixed_only.regressed and [c.id for c in fixed_only.fixed] == ["gets-fixed"]


def test_an_expected_failure_that_turns_unexpected_is_a_new_failure() -> None:
    old = make_run([make_check("x", bad("JR-CREATE-001"))])
    old.checks[0].status = Status.XFAIL
    new = make_run([make_check("x", bad("JR-CREATE-001"))])
    assert [c.id for c in diff_results(old, new).new_failures] == ["x"]
    # ... and a skip that turns into a failure too.
    old.checks[0].status = Status.SKIP
    assert diff_results(old, new).regressed


def _write(tmp_path: Path, run: RunResult) -> Path:
    path = tmp_path / f"{run.run_id}.json"
    path.write_text(render_json(run), encoding="utf-8")
    return path


def test_cli_exits_1_on_regressions_and_0_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = (_write(tmp_path, run) for run in _runs())
    assert main(["diff", str(old), str(new)]) == 1
    assert "REGRESSED: 2 new failure(s)" in capsys.readouterr().out
    assert main(["diff", str(new), str(new)]) == 0
    assert "No regressions." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ("garbage", "invalid JSON"),
        ('{"schema_version": "1.0"}', "not a valid results.json: at (top level):"),
    ],
)
def test_cli_reports_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, reason: str
) -> None:
    good = _write(tmp_path, _runs()[0])
    bad_file = tmp_path / "bad.json"
    if content is not None:
        bad_file.write_text(content)
    assert main(["diff", str(good), str(bad_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"jr-conformance: UsageError: {bad_file}: ")
    assert reason in lines[0]
