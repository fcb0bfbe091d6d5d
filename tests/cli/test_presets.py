"""``jr-conformance scenarios`` and ``jr-conformance fuzz``: presets of ``run`` (one stage each),
with its reports and exit codes, and each check shown in detail."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.fuzz import fuzz_checks
from conformance.reference import ReferenceServer, ReferenceSettings

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


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The reports go to ./reports, as for `run`: here, a fresh folder; no JR_* variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("JR_BASE_URL", "JR_TOKEN", "JR_CLIENT_ID", "JR_CLIENT_SECRET", "JR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def reference() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceSettings()) as server:
        yield server


# -- scenarios ----------------------------------------------------------------------------------


def test_scenarios_pass_and_fail_against_the_embedded_reference(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(in_tmp, "lib/errors/good.yaml", PASSING)
    assert main(["scenarios", "--scenarios", str(good)]) == 0
    out = capsys.readouterr().out
    assert "PASS   cli-passing" in out and "scenarios: 1 checks" in out
    assert "PASS: MUST" in out and "report (json): reports/results.json" in out
    assert (in_tmp / "reports" / "results.json").is_file()  # the same reports as `run`

    bad = write(in_tmp, "lib/errors/bad.yaml", PASSING.replace("category: 40", "category: 30"))
    assert main(["scenarios", "--scenarios", str(bad), "--select", "JR-ERRORS-*"]) == 1
    out = capsys.readouterr().out
    assert "FAIL   cli-passing" in out
    assert "FAIL JR-ERRORS-008: step 'retrieve' (GET_JournalRun): expected refused" in out


def test_the_scenario_library_runs_by_selection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--select", "partial-cancel-*", "not-found-runs"]) == 0
    out = capsys.readouterr().out
    assert "PASS   partial-cancel-jr-00000075" in out and "scenarios: 2 checks" in out


def test_scenario_usage_errors_exit_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--select", "no-such-thing"]) == 2
    assert "names no scenario" in capsys.readouterr().err
    broken = write(in_tmp, "x.yaml", PASSING.replace("operation: GET_JournalRun", "operation: X"))
    assert main(["scenarios", "--scenarios", str(broken)]) == 2
    assert "x.yaml:6: steps[0].operation: unknown operation 'X'" in capsys.readouterr().err


def test_an_unreachable_target_exits_3(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(in_tmp, "good.yaml", PASSING)
    code = main(["scenarios", "--base-url", "http://127.0.0.1:9", "--scenarios", str(good)])
    assert code == 3
    assert "setup error: cannot reach the target" in capsys.readouterr().out


# -- fuzz ---------------------------------------------------------------------------------------


def test_fuzz_fuzzes_the_embedded_reference(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["fuzz", "--max-examples", "1", "--seed", "3", "--quiet"])
    out = capsys.readouterr().out
    for check in fuzz_checks():
        assert check.id in out
    assert "(seed 3, 1 examples per operation)" in out
    assert (in_tmp / "reports" / "results.json").is_file()
    assert code in (0, 1)
    assert (code == 0) == ("FAIL" not in out and "ERROR" not in out)


def test_fuzz_with_a_wrong_token_exits_3(
    reference: ReferenceServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JR_TOKEN", "wrong-token-value")
    code = main(["fuzz", "--base-url", reference.url, "--max-examples", "1", "--quiet"])
    captured = capsys.readouterr()
    assert code == 3
    assert "setup error" in captured.out and "401" in captured.out
    assert "wrong-token-value" not in captured.out + captured.err


def test_fuzz_of_an_external_target_needs_credentials(
    reference: ReferenceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["fuzz", "--base-url", reference.url, "--quiet"])
    out = capsys.readouterr().out
    assert code == 3, out
    assert "JR_TOKEN" in out


def test_a_bad_fuzz_budget_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--max-examples", "0"]) == 2
    assert "max_examples" in capsys.readouterr().err
