"""Blame as data: both engines name the same requirement for the same operation, status and field,
and the catalogue's loader refuses tables that contradict themselves."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import _resources
from conformance._catalogue import Catalogue, load_catalogue
from conformance._exceptions import CatalogueError
from conformance._validate import Problem
from conformance.fuzz import BUILTIN_GROUPS, CUSTOM_CHECKS
from conformance.fuzz._builtins import SCHEMA_CHECK, group_of, requirement_for
from conformance.fuzz._checks import Rules
from conformance.fuzz._observe import Observation
from conformance.scenarios._runner import _Context

#: Where a body breaks its schema: outside the envelope (a field of the operation's own, or the
#: body as a whole), and at each field of the envelope.
SCHEMA_PATHS: tuple[tuple[str | int, ...], ...] = ((), ("number",), ("journalEntries", 0, "amount"))
ENVELOPE_PATHS: tuple[tuple[str | int, ...], ...] = (
    ("success",),
    ("reasons",),
    ("reasons", 0, "message"),
    ("reasons", 0, "code"),
    ("processId",),
    ("requestId",),
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def scenario_blame(catalogue: Catalogue, operation: str, success: bool, path: Any) -> str:
    context = _Context(catalogue, None, None, threading.Event())  # type: ignore[arg-type]
    (requirement,) = context.schema_requirements(operation, success, Problem(path, "broken"))
    return requirement


def fuzz_blame(operation: str, success: bool, path: Any) -> str:
    return requirement_for(SCHEMA_CHECK, operation, not success, path)


@pytest.mark.parametrize("path", SCHEMA_PATHS + ENVELOPE_PATHS, ids=lambda p: "/".join(map(str, p)))
@pytest.mark.parametrize("success", [True, False], ids=["success", "error"])
def test_both_engines_blame_a_schema_violation_on_the_same_requirement(
    catalogue: Catalogue, success: bool, path: tuple[str | int, ...]
) -> None:
    schema_group = group_of(SCHEMA_CHECK)
    assert schema_group is not None
    for operation in catalogue.operations:
        in_scenario = scenario_blame(catalogue, operation, success, path)
        in_fuzz = fuzz_blame(operation, success, path)
        assert in_scenario == in_fuzz, (operation, success, path)
        assert in_fuzz in catalogue.requirements
        # ... and the fuzz stage's group reports what it blames.
        assert in_fuzz in schema_group.requirement_ids, (operation, success, path)


def test_the_twenty_cases_name_what_the_catalogue_decided(catalogue: Catalogue) -> None:
    """The 10 operations x (success, error) for a body that breaks its schema."""
    blame = catalogue.blame
    for operation in catalogue.operations:
        assert scenario_blame(catalogue, operation, True, ()) == blame.schema_success[operation]
        assert scenario_blame(catalogue, operation, False, ()) == "JR-ERRORS-002"
    assert scenario_blame(catalogue, "PUT_JournalRun", True, ()) == "JR-CANCEL-001"
    assert scenario_blame(catalogue, "PUT_JournalRun", True, ("success",)) == "JR-ERRORS-001"
    assert scenario_blame(catalogue, "GET_JournalRun", False, ("reasons", 0, "code")) == (
        "JR-ERRORS-004"
    )


def _observation(operation: str, status: int, body: Any) -> Observation:
    return Observation(
        index=0,
        pass_name="main",
        phase="fuzzing",
        operation_id=operation,
        method="GET",
        url="http://127.0.0.1:1/v1/journal-runs/JR-00000001",
        path_parameters={"jr-number": "JR-00000001"},
        request_headers={"zuora-version": "2024-05-20"},
        request_body=None,
        status=status,
        response_headers={"content-type": "application/json"},
        response_body=json.dumps(body).encode(),
    )


@pytest.mark.parametrize(
    ("status", "body", "field"),
    [
        pytest.param(404, {"reasons": [{"code": "50000040", "message": "x"}]}, ("success",)),
        pytest.param(404, {"success": False, "reasons": []}, ("reasons",)),
        pytest.param(
            404,
            {"success": False, "reasons": [{"code": "5000040", "message": "x"}]},
            ("reasons", 0, "code"),
        ),
        pytest.param(200, {"success": True, "processId": "ABC"}, ("processId",)),
        pytest.param(200, {"success": True, "reasons": []}, ("reasons",)),
    ],
)
def test_an_envelope_field_is_blamed_alike_by_the_fuzz_rules_and_the_scenarios(
    catalogue: Catalogue, status: int, body: Any, field: tuple[str | int, ...]
) -> None:
    for operation in catalogue.operations:
        findings = Rules().judge(_observation(operation, status, body))
        failed = {
            f.requirement_id
            for f in findings
            if f.check_id == "fuzz.error-envelope" and not f.passed
        }
        expected = scenario_blame(catalogue, operation, status < 400, field)
        assert failed == {expected}, (operation, body)


def test_every_fuzz_check_reports_what_the_catalogue_says(catalogue: Catalogue) -> None:
    for check in (*CUSTOM_CHECKS, *BUILTIN_GROUPS):
        assert check.requirement_ids == catalogue.blame.check(check.id)
    assert set(catalogue.blame.checks) == {c.id for c in (*CUSTOM_CHECKS, *BUILTIN_GROUPS)}


LITERAL = re.compile(r'"JR-[A-Z]+-[0-9]+"')


@pytest.mark.parametrize(
    "module",
    [
        "fuzz/_checks.py",
        "fuzz/_builtins.py",
        "_envelope.py",
        "scenarios/_runner.py",
        "scenarios/_expect.py",
        "_blame.py",
    ],
)
def test_requirement_ids_come_from_the_catalogue_not_from_code(module: str) -> None:
    text = (Path(__file__).parent.parent / "conformance" / module).read_text(encoding="utf-8")
    assert not LITERAL.findall(text)


# -- the loader's rules -------------------------------------------------------------------------


def _load_with(tmp_path: Path, change: Any) -> Catalogue:
    data = yaml.safe_load(_resources.requirements_path().read_text(encoding="utf-8"))
    change(data["blame"])
    path = tmp_path / "requirements.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_catalogue(_resources.spec_path(), path)


def test_the_bundled_tables_load(tmp_path: Path) -> None:
    assert _load_with(tmp_path, lambda blame: None).blame.schema_error == "JR-ERRORS-002"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda b: b["checks"]["fuzz.cancel-rule"]["findings"].update(
                {"answered-200": "JR-DELETE-001"}
            ),
            r"fuzz\.cancel-rule\.findings\.answered-200: JR-DELETE-001 is not among the check's",
            id="finding-outside-its-check",
        ),
        pytest.param(
            lambda b: b["schema"]["success"].pop("PUT_JournalRun"),
            r"no requirement for operation PUT_JournalRun",
            id="operation-without-schema-blame",
        ),
        pytest.param(
            lambda b: b["envelope"].update({"success": "JR-ERRORS-999"}),
            r"blame\.envelope\.success: unknown requirement JR-ERRORS-999",
            id="unknown-requirement",
        ),
        pytest.param(
            lambda b: b["checks"]["fuzz.error-envelope"]["findings"].update(
                {"processId": "JR-ERRORS-002"}
            ),
            r"findings\.processId: JR-ERRORS-002, but the table names JR-ERRORS-003",
            id="finding-contradicts-the-envelope-table",
        ),
        pytest.param(
            lambda b: b["checks"]["fuzz.response-schema"]["requirements"].remove("JR-CANCEL-001"),
            r"fuzz\.response-schema: reports the schema table but lacks JR-CANCEL-001",
            id="reported-table-not-covered",
        ),
    ],
)
def test_contradicting_tables_fail_to_load(tmp_path: Path, change: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        _load_with(tmp_path, change)


def test_a_schemathesis_failure_is_placed_where_the_scenarios_place_it(
    catalogue: Catalogue,
) -> None:
    """What the fuzz driver passes to requirement_for: the failure's path, as the scenarios'
    validator gives it (a missing property's name included)."""
    import jsonschema_rs

    from conformance.fuzz._builtins import failure_path

    class Failure:
        def __init__(self, error: Any) -> None:
            self.instance_path = list(error.instance_path)
            self._raw_message = error.message

    validator = jsonschema_rs.Draft202012Validator(
        {
            "type": "object",
            "required": ["success"],
            "properties": {
                "reasons": {"type": "array", "items": {"properties": {"code": {"type": "string"}}}}
            },
        }
    )
    (missing,) = validator.iter_errors({})
    (code,) = validator.iter_errors({"success": False, "reasons": [{"code": 5}]})
    assert failure_path(Failure(missing)) == ("success",)
    assert failure_path(Failure(code)) == ("reasons", 0, "code")
    assert failure_path(object()) == ()
    for operation in catalogue.operations:
        assert fuzz_blame(operation, False, failure_path(Failure(missing))) == "JR-ERRORS-001"
        assert fuzz_blame(operation, False, failure_path(Failure(code))) == "JR-ERRORS-004"
