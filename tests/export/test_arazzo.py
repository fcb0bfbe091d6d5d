"""``jr-conformance export arazzo``: the document's shape, then Redocly CLI (pinned in
``tools/spec-lint``) lints it and runs it with ``respect`` against the reference, where the
workflows pass, and against the reference with a fault, where they fail."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance._catalogue import Catalogue, load_catalogue
from conformance._tenant_data import DOCUMENTS_DATA, Period, TenantData
from conformance.cli import main
from conformance.export import SOURCE_NAME, ArazzoExport, build_arazzo, write_arazzo
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.scenarios import Scenario, load_scenarios

ROOT = Path(__file__).resolve().parents[2]
SPEC_LINT = ROOT / "tools" / "spec-lint"
TOKEN = "arazzo-test-token-0123456789"
#: A fault the cancel workflows catch at once (cancel answers 204, not 200 success true).
FAULT = "cancel-answers-204"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JR_BASE_URL", "JR_TOKEN", "JR_CLIENT_ID", "JR_CLIENT_SECRET", "JR_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def library(catalogue: Catalogue) -> list[Scenario]:
    return load_scenarios(catalogue=catalogue)


@pytest.fixture(scope="module")
def export(library: list[Scenario], catalogue: Catalogue) -> ArazzoExport:
    return build_arazzo(library, catalogue, DOCUMENTS_DATA)


@pytest.fixture(scope="module")
def exported(export: ArazzoExport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arazzo") / "journal-runs.arazzo.yaml"
    write_arazzo(export, path)
    return path


# -- the document ---------------------------------------------------------------------------


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return list(workflow["steps"])


def test_the_document_has_the_arazzo_shape(export: ArazzoExport, catalogue: Catalogue) -> None:
    document = export.document
    assert document["arazzo"] == "1.0.1"
    assert {"title", "version"} <= set(document["info"])
    [source] = document["sourceDescriptions"]
    assert source == {"name": SOURCE_NAME, "url": "journal-runs.openapi.yaml", "type": "openapi"}
    ids = export.workflow_ids
    assert len(ids) == len(set(ids)) >= 40
    for workflow in document["workflows"]:
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", workflow["workflowId"])
        assert workflow["x-requirements"]
        assert all(r in workflow["description"] for r in workflow["x-requirements"])
        step_ids = [s["stepId"] for s in _steps(workflow)]
        assert len(step_ids) == len(set(step_ids)), workflow["workflowId"]
        for step in _steps(workflow):
            assert re.fullmatch(r"[A-Za-z0-9_\-]+", step["stepId"])
            assert step["operationId"] in catalogue.operations
            for parameter in step.get("parameters", []):
                assert parameter["in"] in ("path", "query", "header")


#: The parts of Arazzo 1.0.1 (https://spec.openapis.org/arazzo/v1.0.1.html) the export writes,
#: as a JSON Schema written here from the specification's text (required fields, patterns and
#: enums of the objects used), stricter where the export promises more: every retry names its
#: retryLimit and retryAfter. ``redocly lint`` below checks the whole document too.
_ID = {"type": "string", "pattern": "^[A-Za-z0-9_\\-]+$"}
_CRITERION = {
    "type": "object",
    "required": ["condition"],
    "properties": {
        "context": {"type": "string", "pattern": "^\\$"},
        "condition": {"type": "string", "minLength": 1},
        "type": {"enum": ["simple", "regex", "jsonpath", "xpath"]},
    },
    "additionalProperties": False,
}
_ARAZZO_SUBSET: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["arazzo", "info", "sourceDescriptions", "workflows"],
    "patternProperties": {"^x-": {}},
    "properties": {
        "arazzo": {"type": "string", "pattern": "^1\\.0\\.\\d+(-.+)?$"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {
                "title": {"type": "string"},
                "summary": {"type": "string"},
                "description": {"type": "string"},
                "version": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "sourceDescriptions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "url"],
                "properties": {
                    "name": _ID,
                    "url": {"type": "string"},
                    "type": {"enum": ["openapi", "arazzo"]},
                },
                "additionalProperties": False,
            },
        },
        "workflows": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["workflowId", "steps"],
                "patternProperties": {"^x-": {}},
                "properties": {
                    "workflowId": _ID,
                    "summary": {"type": "string"},
                    "description": {"type": "string"},
                    "inputs": {"type": "object"},
                    "steps": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["stepId", "operationId"],
                            "properties": {
                                "stepId": _ID,
                                "operationId": {"type": "string"},
                                "description": {"type": "string"},
                                "parameters": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["name", "in", "value"],
                                        "properties": {
                                            "name": {"type": "string"},
                                            "in": {"enum": ["path", "query", "header", "cookie"]},
                                            "value": {},
                                        },
                                        "additionalProperties": False,
                                    },
                                },
                                "requestBody": {
                                    "type": "object",
                                    "properties": {
                                        "contentType": {"type": "string"},
                                        "payload": {},
                                    },
                                    "additionalProperties": False,
                                },
                                "successCriteria": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": _CRITERION,
                                },
                                "onFailure": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["name", "type"],
                                        "properties": {
                                            "name": {"type": "string"},
                                            "type": {"enum": ["end", "retry", "goto"]},
                                            "retryAfter": {"type": "number", "minimum": 0},
                                            "retryLimit": {"type": "integer", "minimum": 0},
                                            "criteria": {"type": "array", "items": _CRITERION},
                                        },
                                        "if": {"properties": {"type": {"const": "retry"}}},
                                        "then": {"required": ["retryAfter", "retryLimit"]},
                                        "additionalProperties": False,
                                    },
                                },
                                "outputs": {
                                    "type": "object",
                                    "propertyNames": {"pattern": "^[a-zA-Z0-9.\\-_]+$"},
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


def test_the_document_validates_against_the_arazzo_objects_it_uses(
    export: ArazzoExport,
) -> None:
    import jsonschema

    document = json.loads(json.dumps(export.document, default=str))
    errors = sorted(
        jsonschema.Draft202012Validator(_ARAZZO_SUBSET).iter_errors(document),
        key=lambda e: list(e.absolute_path),
    )
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    # ... and the schema does catch what it is here for: a retry without its limit.
    retry = next(
        action
        for workflow in document["workflows"]
        for step in workflow["steps"]
        for action in step.get("onFailure", [])
        if action["type"] == "retry"
    )
    del retry["retryLimit"]
    assert not jsonschema.Draft202012Validator(_ARAZZO_SUBSET).is_valid(document)


def test_every_retry_has_an_explicit_limit_and_interval(export: ArazzoExport) -> None:
    retries = [
        action
        for workflow in export.document["workflows"]
        for step in _steps(workflow)
        for action in step.get("onFailure", [])
        if action["type"] == "retry"
    ]
    assert retries
    for action in retries:
        assert isinstance(action["retryLimit"], int) and action["retryLimit"] >= 1
        assert 0 < action["retryAfter"] <= 2


def test_every_expression_names_an_input_or_an_earlier_output(export: ArazzoExport) -> None:
    for workflow in export.document["workflows"]:
        inputs = set(workflow["inputs"]["properties"])
        outputs: dict[str, set[str]] = {}
        for step in _steps(workflow):
            text = json.dumps({k: v for k, v in step.items() if k != "outputs"})
            for name in re.findall(r"\$inputs\.([A-Za-z0-9_\-]+)", text):
                assert name in inputs, (workflow["workflowId"], step["stepId"], name)
            for step_id, name in re.findall(r"\$steps\.([A-Za-z0-9_\-]+)\.outputs\.(\w+)", text):
                assert name in outputs.get(step_id, set()), (workflow["workflowId"], step_id)
            outputs[step["stepId"]] = set(step.get("outputs", {}))


def test_tenant_values_are_inputs_never_literals(
    library: list[Scenario], catalogue: Catalogue
) -> None:
    import datetime as dt

    tenant = TenantData(
        Period("Jan-2031", dt.date(2031, 1, 1), dt.date(2031, 1, 31)),
        Period("Feb-2031", dt.date(2031, 2, 1), dt.date(2031, 2, 28)),
    )
    export = build_arazzo(library, catalogue, tenant)
    defaults = json.dumps(
        [w["inputs"]["properties"] for w in export.document["workflows"]], default=str
    )
    assert "Jan-2031" in defaults and "2031-01-04" in defaults  # ${tenant.period.start+3}
    document = json.loads(json.dumps(export.document, default=str))
    for workflow in document["workflows"]:
        del workflow["inputs"]
    document.pop("info")
    assert "2031" not in json.dumps(document)


def test_what_cannot_be_translated_is_left_out_with_the_reason(export: ArazzoExport) -> None:
    reasons = {item.scenario: item.reason for item in export.left_out}
    assert "gzip" in reasons["gzip-request"]
    assert "no step can be sent" in reasons["unsupported-method"]
    assert "earliest target date" in reasons["create-earliest-date-accepted"]
    assert export.document["x-not-exported"] == [
        {"scenario": s, "reason": r} for s, r in reasons.items()
    ]
    assert not set(reasons) & set(export.workflow_ids)
    # A refusal the runner cannot send is left out alone: it changes nothing on the server.
    [malformed] = [w for w in export.document["workflows"] if w["workflowId"] == "malformed-bodies"]
    assert "not-json" not in [s["stepId"] for s in malformed["steps"]]
    assert any("'not-json' sends a raw" in note for note in malformed["x-not-checked"])


def test_polling_becomes_fail_fast_then_retry(export: ArazzoExport) -> None:
    [workflow] = [
        w for w in export.document["workflows"] if w["workflowId"] == "cancel-completed-run"
    ]
    [wait] = [s for s in _steps(workflow) if s["stepId"] == "wait-completed"]
    end, retry = wait["onFailure"]
    assert end["type"] == "end" and "Cancelled" in json.dumps(end["criteria"])
    assert retry == {"name": "poll", "type": "retry", "retryAfter": 0.5, "retryLimit": 240}
    [create] = [s for s in _steps(workflow) if s["stepId"].startswith("create")]
    assert create["outputs"] == {"run": "$response.body#/journalRunNumber"}
    assert create["requestBody"]["payload"]["accountingPeriodName"] == "$inputs.tenant_period_name"
    assert _steps(workflow)[-1]["stepId"] == "cleanup-delete-run"


def test_fixtures_come_first_and_created_runs_are_cleaned_up(export: ArazzoExport) -> None:
    [workflow] = [w for w in export.document["workflows"] if w["workflowId"] == "track-id-echo"]
    ids = [s["stepId"] for s in _steps(workflow)]
    assert ids[0] == "completed-run-create--track-id-echo"
    assert ids[-4:] == [
        "cleanup-settle-run",
        "cleanup-cancel-run",
        "cleanup-wait-cancelled-run",
        "cleanup-delete-run",
    ]
    assert "$steps.completed-run-create--track-id-echo.outputs.run" in json.dumps(
        _steps(workflow)[-1]
    )


# -- the command ------------------------------------------------------------------------------


def test_the_command_writes_the_document_and_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "cancel.arazzo.yaml"
    code = main(["export", "arazzo", "--select", "cancel", "--output", str(output)])
    out = capsys.readouterr().out
    assert code == 0, out
    document = yaml.safe_load(output.read_text())
    assert (output.parent / "journal-runs.openapi.yaml").is_file()
    ids = [w["workflowId"] for w in document["workflows"]]
    assert "cancel-completed-run" in ids and "create-with-period" not in ids
    assert f"{len(ids)} workflow(s)" in out
    assert "left out partial-cancel-jr-00000075" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--select", "no-such-scenario"], "names no scenario"),
        (["--period", "Quarter-1"], "needs its dates"),
    ],
)
def test_the_command_refuses_with_a_message(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", "arazzo", "--output", str(tmp_path / "x.yaml"), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_an_earliest_date_exports_its_scenarios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "x.arazzo.yaml"
    argv = ["export", "arazzo", "-o", str(output), "--select", "create-earliest-*"]
    code = main([*argv, "--earliest-date", "2014-11-10"])
    assert code == 0, capsys.readouterr()
    assert len(yaml.safe_load(output.read_text())["workflows"]) == 2


# -- Redocly CLI ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redocly() -> Path:
    """The pinned Redocly CLI of tools/spec-lint, installed with ``npm ci`` when missing."""
    binary = SPEC_LINT / "node_modules" / ".bin" / "redocly"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.skip("npm and node are not installed: cannot install the pinned Redocly CLI")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(SPEC_LINT)],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return binary


def _redocly(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**_node_env(), "NO_COLOR": "1", "REDOCLY_TELEMETRY": "off"},
    )


def _node_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("JR_")}


def _respect(binary: Path, document: Path, url: str, report: Path) -> tuple[int, dict[str, Any]]:
    done = _redocly(
        binary,
        "respect",
        str(document),
        "--server",
        f"{SOURCE_NAME}={url}",
        "--input",
        f"token={TOKEN}",
        "--json-output",
        str(report),
    )
    results = json.loads(report.read_text()) if report.exists() else {}
    return done.returncode, results


def _statuses(results: dict[str, Any]) -> dict[str, str]:
    return {
        workflow["workflowId"]: workflow["status"]
        for file in results.get("files", {}).values()
        for workflow in file["executedWorkflows"]
    }


@pytest.mark.timeout(60, func_only=True)
def test_redocly_lint_accepts_the_export(redocly: Path, exported: Path) -> None:
    done = _redocly(redocly, "lint", str(exported))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.timeout(90, func_only=True)
def test_respect_passes_every_workflow_against_the_reference(
    redocly: Path, exported: Path, export: ArazzoExport, tmp_path: Path
) -> None:
    with ReferenceServer(ReferenceSettings(tokens=(TOKEN,), delay=0)) as server:
        code, results = _respect(redocly, exported, server.url, tmp_path / "respect.json")
    statuses = _statuses(results)
    failed = sorted(w for w, s in statuses.items() if s != "success")
    assert code == 0 and not failed, failed
    assert set(statuses) == set(export.workflow_ids)


@pytest.mark.timeout(60, func_only=True)
def test_respect_fails_against_a_reference_fault(
    redocly: Path, library: list[Scenario], catalogue: Catalogue, tmp_path: Path
) -> None:
    cancel = [s for s in library if s.area == "cancel"]
    document = tmp_path / "cancel.arazzo.yaml"
    write_arazzo(build_arazzo(cancel, catalogue, DOCUMENTS_DATA), document)
    settings = ReferenceSettings(tokens=(TOKEN,), delay=0, faults=frozenset({FAULT}))
    with ReferenceServer(settings) as server:
        code, results = _respect(redocly, document, server.url, tmp_path / "respect.json")
    statuses = _statuses(results)
    assert code != 0
    assert statuses["cancel-completed-run"] != "success"
    [workflow] = [
        w
        for file in results["files"].values()
        for w in file["executedWorkflows"]
        if w["workflowId"] == "cancel-completed-run"
    ]
    failed = {
        step["stepId"]: [c.get("condition") for c in step["checks"] if not c["passed"]]
        for step in workflow["executedSteps"]
        if any(not c["passed"] for c in step.get("checks", []))
    }
    assert "$statusCode == 200" in failed["cancel"]  # 204: the fault, caught where it is
