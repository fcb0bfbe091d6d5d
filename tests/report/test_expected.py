"""Expected failures: failures become xfail; stale and now-passing entries fail the gate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from report_samples import bad, make_check, make_run, ok

from conformance import ConfigError, RunResult, Status
from conformance.report import (
    ExpectedFailure,
    ExpectedFailures,
    apply_expected_failures,
    load_expected_failures,
    suggest_entry,
)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expected-failures.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _expect(*entries: ExpectedFailure) -> ExpectedFailures:
    numbered = [
        ExpectedFailure(e.check, e.reason, e.requirement, number)
        for number, e in enumerate(entries, start=1)
    ]
    return ExpectedFailures("xf.yaml", tuple(numbered))


def test_load_a_valid_file(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "version: 1\n"
        "expected_failures:\n"
        "  - check: create-huge\n"
        "    reason: bodies over 1 MiB are cut, tracked in JR-12\n"
        "  - check: 'cancel-*'\n"
        "    requirement: JR-CANCEL-003\n"
        "    reason: '  async cancel not done  '\n",
    )
    loaded = load_expected_failures(path)
    assert loaded.source == str(path)
    assert loaded.entries == (
        ExpectedFailure("create-huge", "bodies over 1 MiB are cut, tracked in JR-12", None, 1),
        ExpectedFailure("cancel-*", "async cancel not done", "JR-CANCEL-003", 2),
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the expected-failures file is empty"),
        ("version: 1\nexpected_failures: [\n", "line 3: invalid YAML"),
        ("version: 2\nexpected_failures: []\n", "version: must be 1, not 2"),
        ("expected_failures: []\n", "'version' is a required property"),
        ("version: 1\nexpected_failures:\n  - check: a\n", "expected_failures[0]: 'reason' is a"),
        (
            "version: 1\nexpected_failures:\n  - {check: a, reason: '  '}\n",
            "expected_failures[0].reason: must not be empty",
        ),
        (
            "version: 1\nexpected_failures:\n  - {check: a, reason: r, reasn: r}\n",
            "Additional properties are not allowed ('reasn' was unexpected)",
        ),
        (
            "version: 1\nexpected_failures:\n  - {check: 12, reason: r}\n",
            "expected_failures[0].check: 12 is not of type 'string'",
        ),
    ],
)
def test_a_malformed_file_is_a_config_error(tmp_path: Path, text: str, reason: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_expected_failures(path)
    assert str(info.value).startswith(f"{path}: ")
    assert reason in str(info.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the expected-failures file"):
        load_expected_failures(tmp_path / "nope.yaml")


def test_a_matching_failure_becomes_xfail(mixed_run: RunResult) -> None:
    problems = apply_expected_failures(
        mixed_run,
        _expect(
            ExpectedFailure("create-huge", "known: JR-12"),
            ExpectedFailure("cancel-e*", "flaky network"),
        ),
    )
    assert problems == []
    checks = {c.id: c for c in mixed_run.checks}
    assert checks["create-huge"].status is Status.XFAIL
    assert checks["create-huge"].expected_failure == "known: JR-12"
    assert checks["create-huge"].message == "expected 201, got 500"  # the evidence stays
    assert checks["cancel-error"].status is Status.XFAIL
    assert checks["create-hostile"].status is Status.FAIL  # not listed: still a failure
    assert mixed_run.status is Status.FAIL
    assert mixed_run.gate_problems == []


def test_a_requirement_scoped_entry_excuses_only_that_requirement() -> None:
    both = make_check("c", bad("JR-CREATE-001"), bad("JR-CREATE-002"))
    one = make_check("d", bad("JR-CREATE-001"), ok("JR-CREATE-002"))
    run = make_run([both, one])
    problems = apply_expected_failures(run, _expect(ExpectedFailure("*", "r", "JR-CREATE-001")))
    assert problems == []
    assert both.status is Status.FAIL  # JR-CREATE-002 fails too, and nobody expects that
    assert one.status is Status.XFAIL


def test_an_entry_for_a_passing_check_is_a_problem(pass_run: RunResult) -> None:
    problems = apply_expected_failures(pass_run, _expect(ExpectedFailure("create-ok", "old bug")))
    assert [p.kind for p in problems] == ["now-passes"]
    assert str(problems[0]) == (
        "xf.yaml: entry 1 (check 'create-ok'): expected failure now passes: "
        "remove it (check create-ok passed)"
    )
    assert pass_run.gate_problems == [str(problems[0])]
    assert pass_run.status is Status.PASS  # the model is unchanged; the verdict fails


def test_a_scoped_entry_whose_requirement_now_passes_is_a_problem() -> None:
    check = make_check("d", bad("JR-CREATE-001"), ok("JR-CREATE-002"))
    run = make_run([check])
    problems = apply_expected_failures(run, _expect(ExpectedFailure("d", "r", "JR-CREATE-002")))
    assert [p.kind for p in problems] == ["now-passes"]
    assert check.status is Status.FAIL


def test_an_entry_matching_no_check_is_stale(mixed_run: RunResult) -> None:
    problems = apply_expected_failures(
        mixed_run,
        _expect(
            ExpectedFailure("gone-*", "removed scenario"),
            ExpectedFailure("create-huge", "r", "JR-DELETE-001"),  # check exists, not that req
        ),
    )
    assert [p.kind for p in problems] == ["stale", "stale"]
    assert str(problems[0]) == "xf.yaml: entry 1 (check 'gone-*') matches nothing: stale entry"
    assert "requirement JR-DELETE-001" in str(problems[1])


def test_an_entry_for_a_skipped_check_is_neither_used_nor_stale(mixed_run: RunResult) -> None:
    assert apply_expected_failures(mixed_run, _expect(ExpectedFailure("delete-skip", "r"))) == []
    assert mixed_run.checks[3].status is Status.SKIP


def test_applying_twice_changes_nothing(mixed_run: RunResult) -> None:
    expected = _expect(ExpectedFailure("create-huge", "r"), ExpectedFailure("nothing", "r"))
    first = apply_expected_failures(mixed_run, expected)
    before = mixed_run.to_dict()
    assert apply_expected_failures(mixed_run, expected) == first
    assert mixed_run.to_dict() == before


def test_a_suggested_entry_pastes_into_a_file_and_matches(
    tmp_path: Path, mixed_run: RunResult
) -> None:
    failing = [c for c in mixed_run.checks if c.status >= Status.FAIL]
    suggestions = [suggest_entry(c) for c in failing]
    assert suggestions[1] == (
        "  - check: create-huge\n"
        "    requirement: JR-CREATE-002\n"
        "    reason: 'TODO: why this failure is acceptable for now (expected 201, got 500)'\n"
    )
    path = _file(tmp_path, "version: 1\nexpected_failures:\n" + "".join(suggestions))
    assert apply_expected_failures(mixed_run, load_expected_failures(path)) == []
    assert all(c.status is Status.XFAIL for c in failing)


def test_a_suggestion_escapes_glob_characters() -> None:
    check = make_check("fuzz[create]*", bad("JR-CREATE-001"))
    entry = yaml.safe_load(suggest_entry(check))[0]
    assert entry["check"] == "fuzz[[]create][*]"
    problems = apply_expected_failures(
        make_run([check, make_check("fuzzc*", bad("JR-CREATE-001"))]),
        _expect(ExpectedFailure(entry["check"], "r")),
    )
    assert problems == []
    assert check.status is Status.XFAIL
