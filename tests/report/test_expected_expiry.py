"""Expected failures that expire: after its ``expires`` day an entry no longer applies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from report_samples import bad, make_check, make_run

from conformance import ConfigError, Status
from conformance.cli import main
from conformance.report import (
    ExpectedFailure,
    ExpectedFailures,
    apply_expected_failures,
    load_expected_failures,
)

DAY = date(2026, 6, 30)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expected-failures.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _expect(*entries: ExpectedFailure) -> ExpectedFailures:
    return ExpectedFailures("xf.yaml", entries)


def test_load_reads_the_expiry_date(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "version: 1\n"
        "expected_failures:\n"
        "  - {check: a, reason: r, expires: 2026-06-30}\n"
        "  - {check: b, reason: r, expires: '2026-07-01'}\n"
        "  - {check: c, reason: r}\n",
    )
    entries = load_expected_failures(path).entries
    assert [e.expires for e in entries] == [DAY, date(2026, 7, 1), None]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("'30/06/2026'", "[0].expires: '30/06/2026' is not a date like 2026-12-31"),
        ("'2026-02-30'", "expected_failures[0].expires: '2026-02-30' is not a date"),
        ("tomorrow", "expected_failures[0].expires: 'tomorrow' is not a date like"),
    ],
)
def test_a_bad_expiry_is_a_one_line_config_error(tmp_path: Path, value: str, reason: str) -> None:
    path = _file(
        tmp_path, f"version: 1\nexpected_failures:\n  - {{check: a, reason: r, expires: {value}}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_expected_failures(path)
    assert str(info.value).startswith(f"{path}: ")
    assert reason in str(info.value)
    assert "\n" not in str(info.value)


def test_an_entry_applies_through_its_expiry_day() -> None:
    check = make_check("c", bad("JR-CREATE-001"))
    run = make_run([check])
    entry = ExpectedFailure("c", "known", number=1, expires=DAY)
    assert apply_expected_failures(run, _expect(entry), today=DAY) == []
    assert check.status is Status.XFAIL
    assert run.verdict is Status.XFAIL


def test_after_its_expiry_an_entry_no_longer_applies_and_the_gate_says_so() -> None:
    check = make_check("c", bad("JR-CREATE-001"))
    other = make_check("d", bad("JR-CREATE-002"))
    run = make_run([check, other])
    expected = _expect(
        ExpectedFailure("c", "known", number=1, expires=DAY),
        ExpectedFailure("d", "known too", number=2, expires=date(2027, 1, 1)),
    )
    problems = apply_expected_failures(run, expected, today=date(2026, 7, 1))
    assert check.status is Status.FAIL  # counts as failing again
    assert other.status is Status.XFAIL  # not yet expired
    assert [p.kind for p in problems] == ["expired"]
    assert str(problems[0]).startswith("xf.yaml: entry 1 (check 'c') expired on 2026-06-30: ")
    assert run.gate_problems == [str(problems[0])]
    assert run.verdict is Status.FAIL


def test_an_expired_entry_for_a_passing_check_is_reported_once_as_expired() -> None:
    run = make_run([make_check("c", bad("JR-CREATE-001"))])
    run.checks[0].status = Status.PASS
    expected = _expect(ExpectedFailure("c", "known", number=1, expires=DAY))
    problems = apply_expected_failures(run, expected, today=date(2030, 1, 1))
    assert [p.kind for p in problems] == ["expired"]


def test_the_run_prints_the_expired_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("JR_BASE_URL", "JR_TOKEN", "JR_CLIENT_ID", "JR_CLIENT_SECRET", "JR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    known = _file(
        tmp_path,
        "version: 1\nexpected_failures:\n"
        "  - {check: bad-credentials, reason: 'tracked in #9', expires: 2000-01-01}\n",
    )
    code = main(
        [
            "run",
            "--select",
            "bad-credentials",
            "--expected-failures",
            str(known),
            "--reports",
            str(tmp_path / "reports"),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    problem = f"expected-failures: {known}: entry 1 (check 'bad-credentials') expired on 2000-01-01"
    assert problem in out
