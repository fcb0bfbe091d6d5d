"""``jr-conformance scenarios``, the scenarios-only preset of ``run``: exit codes and what it
prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_support import write

from conformance.cli import main

PASSING = """
id: cli-passing
title: Not found is not found
requirements: [JR-ERRORS-008]
steps:
  - name: retrieve
    operation: GET_JournalRun
    path_params: {jr-number: JR-99999999}
    expect:
      error: {category: 40}
"""


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the reports go to ./reports, as for `run`
    for name in ("JR_BASE_URL", "JR_TOKEN", "JR_CLIENT_ID", "JR_CLIENT_SECRET", "JR_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_passing_and_failing_against_the_embedded_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "errors/good.yaml", PASSING)
    assert main(["scenarios", "--scenarios", str(good)]) == 0
    out = capsys.readouterr().out
    assert "PASS   cli-passing" in out and "scenarios: 1 checks" in out
    assert "PASS: MUST" in out and "report (json): reports/results.json" in out

    bad = write(tmp_path, "errors/bad.yaml", PASSING.replace("category: 40", "category: 30"))
    assert main(["scenarios", "--scenarios", str(bad), "--select", "JR-ERRORS-*"]) == 1
    out = capsys.readouterr().out
    assert "FAIL   cli-passing" in out
    assert "FAIL JR-ERRORS-008: step 'retrieve' (GET_JournalRun): expected refused" in out


def test_the_library_runs_by_selection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--select", "partial-cancel-*", "not-found-runs"]) == 0
    out = capsys.readouterr().out
    assert "PASS   partial-cancel-jr-00000075" in out and "scenarios: 2 checks" in out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--select", "no-such-thing"]) == 2
    assert "names no scenario" in capsys.readouterr().err
    broken = write(tmp_path, "x.yaml", PASSING.replace("operation: GET_JournalRun", "operation: X"))
    assert main(["scenarios", "--scenarios", str(broken)]) == 2
    assert "x.yaml:6: steps[0].operation: unknown operation 'X'" in capsys.readouterr().err


def test_an_unreachable_target_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.yaml", PASSING)
    code = main(["scenarios", "--base-url", "http://127.0.0.1:9", "--scenarios", str(good)])
    assert code == 3
    assert "setup error: cannot reach the target" in capsys.readouterr().out


def test_a_token_on_the_command_line_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["scenarios", "--token", "tok-on-the-command-line"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--token" in err and "JR_TOKEN" in err and "tok-on-the-command-line" not in err
