"""results.json: validates against its schema, carries the roll-ups, and reads back losslessly."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from report_samples import sample_empty_run, sample_mixed_run, sample_pass_run

from conformance import RunResult, Status, UsageError
from conformance._resources import schema_path
from conformance.report import load_result, render_json
from conformance.report._json import validate_report


@pytest.mark.parametrize("make", [sample_pass_run, sample_mixed_run, sample_empty_run])
def test_every_sample_validates_and_round_trips(make) -> None:  # type: ignore[no-untyped-def]
    run = make()
    data = json.loads(render_json(run))
    validate_report(data)
    again = RunResult.from_dict(data)
    assert again.to_dict() == run.to_dict()
    assert json.loads(render_json(again)) == data


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(schema_path("results").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")


def test_the_roll_ups_are_in_the_file(mixed_run: RunResult) -> None:
    data = json.loads(render_json(mixed_run))
    assert data["status"] == "error"
    assert data["counts"] == {"pass": 2, "skip": 1, "xfail": 0, "warn": 0, "fail": 2, "error": 1}
    assert data["scores"]["MUST"] == {"passed": 2, "total": 5, "percent": 40.0}
    outcomes = {o["id"]: o for o in data["requirement_outcomes"]}
    assert outcomes["JR-CREATE-001"]["status"] == "fail"
    assert outcomes["JR-CREATE-001"]["checks"] == ["create-hostile", "fuzz.create"]
    assert outcomes["JR-AUTH-001"] == {
        "id": "JR-AUTH-001",
        "level": "MUST",
        "area": "auth",
        "testable": False,
        "status": None,
        "checks": [],
    }
    assert data["areas"]["cancel"]["status"] == "error"
    assert data["areas"]["cancel"]["scores"]["MUST"]["passed"] == 2
    assert list(data["areas"]) == ["create", "cancel", "delete", "auth"]  # catalogue order
    operations = data["coverage"]["operations"]
    assert operations["create"]["requirements"] == ["JR-CREATE-001", "JR-CREATE-002"]
    assert operations["create"]["status"] == "fail"
    assert data["coverage"]["requirements"]["JR-DELETE-001"] == ["delete-skip"]
    assert data["coverage"]["uncovered_must"] == []


def test_uncovered_must_requirements_are_listed(pass_run: RunResult) -> None:
    pass_run.checks = [c for c in pass_run.checks if c.id != "delete-ok"]
    data = json.loads(render_json(pass_run))
    assert data["coverage"]["uncovered_must"] == ["JR-DELETE-001"]
    assert data["scores"]["MUST"] == {"passed": 4, "total": 5, "percent": 80.0}


def test_a_gate_problem_makes_the_verdict_fail(pass_run: RunResult) -> None:
    pass_run.gate_problems = ["x.yaml: entry 1 (check 'gone') matches nothing: stale entry"]
    data = json.loads(render_json(pass_run))
    assert (data["status"], data["verdict"]) == ("pass", "fail")
    assert RunResult.from_dict(data).gate_problems == pass_run.gate_problems


def test_values_json_cannot_hold_do_not_break_the_file(pass_run: RunResult) -> None:
    pass_run.checks[0].assertions[0].actual = {b"bytes", 1}
    validate_report(json.loads(render_json(pass_run)))


def test_load_result_reads_a_rendered_file(tmp_path: Path, mixed_run: RunResult) -> None:
    path = tmp_path / "results.json"
    path.write_text(render_json(mixed_run), encoding="utf-8")
    loaded = load_result(path)
    assert loaded.to_dict() == mixed_run.to_dict()
    assert loaded.checks[0].status is Status.FAIL


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "top level is not an object"),
        ('{"schema_version": "2.0"}', "schema_version 2.0 is not supported"),
        ('{"schema_version": "1.0", "run_id": "x"}', "not a valid results.json"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_load_result_rejects_bad_files_in_one_line(
    tmp_path: Path, content: str | bytes | None, reason: str
) -> None:
    path = tmp_path / "old.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as info:
        load_result(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert reason in message
    assert "\n" not in message


def test_a_schema_violation_names_where(tmp_path: Path, pass_run: RunResult) -> None:
    data = json.loads(render_json(pass_run))
    data["checks"][1]["status"] = "passed"
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"at checks/1/status: 'passed' is not one of"):
        load_result(path)
