"""The requirement catalogue, its JSON Schema, the loader and ``jr-conformance spec-info``."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conformance import _resources
from conformance._catalogue import (
    AREAS,
    Catalogue,
    Document,
    Entry,
    Requirement,
    SourceRef,
    lint,
    load_catalogue,
)
from conformance._exceptions import CatalogueError
from conformance.cli import main

TEN_OPERATIONS = {
    "POST_JournalRun": ("post", "/v1/journal-runs", True),
    "GET_JournalRun": ("get", "/v1/journal-runs/{jr-number}", False),
    "PUT_JournalRun": ("put", "/v1/journal-runs/{jr-number}/cancel", False),
    "DELETE_JournalRun": ("delete", "/v1/journal-runs/{jr-number}", False),
    "POST_SummaryJournalEntry": ("post", "/v1/journal-entries", True),
    "GET_SummaryJournalEntry": ("get", "/v1/journal-entries/{je-number}", False),
    "GET_AllSummaryJournalEntries": ("get", "/v1/journal-entries/journal-runs/{jr-number}", False),
    "PUT_BasicSummaryJournalEntry": (
        "put",
        "/v1/journal-entries/{je-number}/basic-information",
        True,
    ),
    "PUT_SummaryJournalEntry": ("put", "/v1/journal-entries/{je-number}/cancel", False),
    "DELETE_SummaryJournalEntry": ("delete", "/v1/journal-entries/{je-number}", False),
}


def raw_catalogue() -> dict[str, Any]:
    with _resources.requirements_path().open(encoding="utf-8") as file:
        data: dict[str, Any] = yaml.safe_load(file)
    return data


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# -- the real catalogue -----------------------------------------------------------------------


def test_real_catalogue_loads_and_lints_clean(catalogue: Catalogue) -> None:
    assert lint(catalogue) == []
    assert len(catalogue.requirements) == len(raw_catalogue()["requirements"])


def test_default_load_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


def test_ids_are_unique_and_name_their_area() -> None:
    ids = [entry["id"] for entry in raw_catalogue()["requirements"]]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for rid in ids:
        assert re.fullmatch(r"JR-[A-Z]+-\d{3}", rid)
        assert rid.split("-")[1].lower() in AREAS


def test_every_area_has_requirements(catalogue: Catalogue) -> None:
    assert {r.area for r in catalogue.requirements.values()} == set(AREAS)


def test_spec_has_exactly_the_ten_operations(catalogue: Catalogue) -> None:
    assert set(catalogue.operations) == set(TEN_OPERATIONS)
    for operation_id, (method, path, has_body) in TEN_OPERATIONS.items():
        operation = catalogue.operation(operation_id)
        assert (operation.method, operation.path, operation.has_body) == (
            method.upper(),
            path,
            has_body,
        )


def test_every_referenced_operation_exists(catalogue: Catalogue) -> None:
    referenced = {op for r in catalogue.requirements.values() for op in r.operations}
    assert referenced - set(catalogue.operations) == set()


def test_every_operation_is_referenced(catalogue: Catalogue) -> None:
    referenced = {op for r in catalogue.requirements.values() for op in r.operations}
    assert set(TEN_OPERATIONS) - referenced == set()


def test_level_counts_are_sane(catalogue: Catalogue) -> None:
    counts = Counter(r.level for r in catalogue.requirements.values())
    assert counts["MUST"] >= 40
    assert counts["SHOULD"] >= 1 and counts["MAY"] >= 1
    assert set(counts) == {"MUST", "SHOULD", "MAY"}
    assert len(catalogue.by_level("MUST")) == counts["MUST"]


#: MUSTs read again: each source describes the client's side or does not oblige the server.
DOWNGRADED = {
    "JR-CREATE-007": "SHOULD",
    "JR-RETRIEVE-007": "SHOULD",
    "JR-CANCEL-003": "MAY",
    "JR-CANCEL-005": "SHOULD",
    "JR-HEADERS-002": "SHOULD",
    "JR-HEADERS-007": "SHOULD",
    "JR-HEADERS-017": "SHOULD",
    "JR-ERRORS-010": "SHOULD",
    "JR-VERSIONS-005": "SHOULD",
    "JR-ENTRIES-014": "SHOULD",
}


def test_downgraded_musts_say_why(catalogue: Catalogue) -> None:
    for rid, level in DOWNGRADED.items():
        requirement = catalogue.requirements[rid]
        assert requirement.level == level, rid
        assert "Was MUST" in requirement.level_reason, rid
    assert len(catalogue.by_level("MUST")) == 66
    # A reason is only where a level was argued; every one is loaded, whitespace folded.
    reasons = [r for r in catalogue.requirements.values() if r.level_reason]
    assert {r.id for r in reasons} == set(DOWNGRADED)
    assert all("  " not in r.level_reason for r in reasons)


def test_every_document_is_cited() -> None:
    data = raw_catalogue()
    cited: set[str] = set()
    for entry in data["requirements"]:
        source = entry["source"]
        cited.update(ref["document"] for ref in (source if isinstance(source, list) else [source]))
    assert cited == set(data["documents"]) == {"cancel", "overview", "create", "facts"}


def test_document_files_are_named_as_the_sources() -> None:
    files = {key: doc["file"] for key, doc in raw_catalogue()["documents"].items()}
    assert files == {
        "cancel": "000_1881c27aa3d4772f.txt",
        "overview": "001_30efd0d79fd2ba67.txt",
        "create": "002_d6472981bcbf86cd.txt",
        "facts": "api-facts.md",
    }


def test_sources_render_as_title_and_section(catalogue: Catalogue) -> None:
    assert (
        catalogue.requirement("JR-CREATE-006").source
        == "Create a journal run § Request Body: targetStartDate"
    )
    several = catalogue.requirement("JR-CANCEL-002").source
    assert several.startswith("Cancel Journal Run § ") and "; Vendor API reference" in several


def test_every_example_step_has_its_own_requirement(catalogue: Catalogue) -> None:
    steps = [r.source for r in catalogue.by_tag("example-jr-00000075")]
    for step in range(1, 5):
        assert any(f"Example step {step}" in source for source in steps), step


def test_not_observable_requirements_say_why(catalogue: Catalogue) -> None:
    hidden = [r for r in catalogue.requirements.values() if not r.testable]
    assert hidden, "permissions and the 24-hour replay window cannot be observed"
    for requirement in hidden:
        assert len(requirement.verification.removeprefix("not-observable:").strip()) > 10


def test_documented_decisions_are_written_down(catalogue: Catalogue) -> None:
    decided = {rid for rid, r in catalogue.requirements.items() if r.decision}
    # error style without a version, malformed number, code type, 500 body, auth, track id,
    # earliest date, executedOn, amount, cancel answered at once, CancelInprogress skippable
    for rid in (
        "JR-VERSIONS-002",
        "JR-RETRIEVE-007",
        "JR-ERRORS-004",
        "JR-ERRORS-007",
        "JR-ERRORS-008",
        "JR-AUTH-001",
        "JR-HEADERS-003",
        "JR-CREATE-010",
        "JR-RETRIEVE-005",
        "JR-ENTRIES-018",
        "JR-CANCEL-001",
        "JR-CANCEL-004",
    ):
        assert rid in decided, rid


def test_lookups_name_the_unknown_id(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="JR-CANCEL-999"):
        catalogue.requirement("JR-CANCEL-999")
    with pytest.raises(CatalogueError, match=r"'PUT_JournalRuns'.*did you mean 'PUT_JournalRun'"):
        catalogue.operation("PUT_JournalRuns")


# -- the JSON Schema --------------------------------------------------------------------------


def test_schema_is_draft_2020_12_and_its_id_pattern_lists_the_areas() -> None:
    schema = json.loads(_resources.schema_path("requirements").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    pattern = schema["$defs"]["requirement"]["properties"]["id"]["pattern"]
    areas = re.search(r"\((.*?)\)", pattern)
    assert areas is not None
    assert areas.group(1).split("|") == [area.upper() for area in AREAS]


def test_schema_tag_enum_is_the_vocabulary_in_use() -> None:
    schema = json.loads(_resources.schema_path("requirements").read_text(encoding="utf-8"))
    allowed = set(schema["$defs"]["requirement"]["properties"]["tags"]["items"]["enum"])
    used = {tag for entry in raw_catalogue()["requirements"] for tag in entry.get("tags", [])}
    assert used == allowed  # no dead words in the vocabulary


# -- broken catalogues ------------------------------------------------------------------------


def write_spec(folder: Path) -> Path:
    paths: dict[str, dict[str, Any]] = {}
    for operation_id, (method, path, has_body) in TEN_OPERATIONS.items():
        operation: dict[str, Any] = {"operationId": operation_id, "summary": operation_id}
        if has_body:
            operation["requestBody"] = {"content": {"application/json": {"schema": {}}}}
        operation["responses"] = {"200": {"description": "OK"}}
        paths.setdefault(path, {})[method] = operation
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Mini", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Run": {"properties": {"status": {"enum": ["A", "B"]}}}}},
    }
    target = folder / "spec.yaml"
    target.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return target


GOOD = """\
version: 1
documents:
  cancel: {title: "Cancel Journal Run", file: "000.txt"}
requirements:
  - id: JR-CANCEL-001
    level: MUST
    statement: "Cancel answers success true."
    source: {document: cancel, section: "Notes"}
    operations: [PUT_JournalRun]
    tags: [async]
    verification: checked
  - id: JR-CANCEL-002
    level: SHOULD
    statement: "Something recommended."
    source: [{document: cancel, section: "Example step 1"}]
    operations: [GET_JournalRun]
    verification: "not-observable: needs a permission"
"""


def load_text(tmp_path: Path, text: str) -> Catalogue:
    requirements = tmp_path / "requirements.yaml"
    requirements.write_text(text, encoding="utf-8")
    return load_catalogue(write_spec(tmp_path), requirements)


def test_minimal_catalogue_loads(tmp_path: Path) -> None:
    catalogue = load_text(tmp_path, GOOD)
    assert list(catalogue.requirements) == ["JR-CANCEL-001", "JR-CANCEL-002"]
    first = catalogue.requirement("JR-CANCEL-001")
    assert first.area == "cancel" and first.testable and first.tags == ("async",)
    assert first.source == "Cancel Journal Run § Notes"
    assert not catalogue.requirement("JR-CANCEL-002").testable
    assert catalogue.operation("PUT_JournalRun").path == "/v1/journal-runs/{jr-number}/cancel"


DUPLICATE = GOOD.replace("id: JR-CANCEL-002", "id: JR-CANCEL-001")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            DUPLICATE, r"requirements\[1\] JR-CANCEL-001: duplicate id", id="duplicate-id"
        ),
        pytest.param(
            GOOD.replace("[PUT_JournalRun]", "[PUT_JournalRuns]"),
            r"JR-CANCEL-001: unknown operation 'PUT_JournalRuns' \(did you mean 'PUT_JournalRun'",
            id="unknown-operation",
        ),
        pytest.param(
            GOOD.replace('"Cancel answers success true."', '""'),
            r"\$\.requirements\[0\]\.statement \(JR-CANCEL-001\)",
            id="empty-statement",
        ),
        pytest.param(
            GOOD.replace('"Cancel answers success true."', '"   "'),
            r"\$\.requirements\[0\]\.statement \(JR-CANCEL-001\)",
            id="blank-statement",
        ),
        pytest.param(
            GOOD.replace("level: MUST", "level: MUSTNT"),
            r"\$\.requirements\[0\]\.level \(JR-CANCEL-001\): 'MUSTNT' is not one of",
            id="bad-level",
        ),
        pytest.param(
            GOOD.replace("JR-CANCEL-001", "JR-BILLING-001"),
            r"id 'JR-BILLING-001' must be JR-<AREA>-<nnn>, AREA one of CREATE, RETRIEVE",
            id="id-in-unknown-area",
        ),
        pytest.param(
            GOOD.replace("JR-CANCEL-001", "JR-CANCEL-1"),
            r"id 'JR-CANCEL-1' must be JR-<AREA>-<nnn>",
            id="id-without-three-digits",
        ),
        pytest.param(
            GOOD.replace('{document: cancel, section: "Notes"}', "{document: faq, section: x}"),
            r"\$\.requirements\[0\]\.source\.document \(JR-CANCEL-001\): 'faq' is not one of",
            id="document-key-outside-vocabulary",
        ),
        pytest.param(
            GOOD.replace('{document: cancel, section: "Notes"}', "{document: facts, section: x}"),
            r"JR-CANCEL-001: unknown document 'facts' \(documents: cancel\)",
            id="document-key-not-defined",
        ),
        pytest.param(
            GOOD.replace("verification: checked", "verification: unchecked"),
            r"\$\.requirements\[0\]\.verification \(JR-CANCEL-001\)",
            id="bad-verification",
        ),
        pytest.param(
            GOOD.replace("tags: [async]", "tags: [asynchronous]"),
            r"\$\.requirements\[0\]\.tags\[0\] \(JR-CANCEL-001\): 'asynchronous' is not one of",
            id="unknown-tag",
        ),
        pytest.param(
            GOOD.replace("    tags: [async]\n", "    tags: [async]\n    level: MAY\n"),
            r"not valid YAML: .*duplicate key 'level'.*line 11",
            id="duplicate-yaml-key",
        ),
        pytest.param(
            GOOD.replace("operations: [PUT_JournalRun]", "operations: [PUT_JournalRun"),
            r"requirements\.yaml: not valid YAML: ",
            id="invalid-yaml",
        ),
        pytest.param(
            GOOD.replace("    verification: checked\n", "", 1),
            r"\$\.requirements\[0\] \(JR-CANCEL-001\): 'verification' is a required property",
            id="missing-field",
        ),
        pytest.param(
            GOOD.replace('document: cancel, section: "Example step 1"', "document: cancel"),
            r"\$\.requirements\[1\]\.source\[0\] \(JR-CANCEL-002\): 'section' is a required",
            id="source-list-missing-section",
        ),
        pytest.param(
            GOOD.replace("requirements:\n", "  overview: {title: O, file: o.txt}\nrequirements:\n"),
            r"documents\.overview: never cited",
            id="uncited-document",
        ),
        pytest.param(
            "- just\n- a list\n", r"\$: \[.*\] is not of type 'object'", id="not-a-mapping"
        ),
    ],
)
def test_broken_catalogue_is_refused_with_a_readable_message(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_text(tmp_path, text)
    message = str(caught.value)
    assert str(tmp_path / "requirements.yaml") in message
    assert re.search(expected, message), message
    assert "Traceback" not in message


def test_missing_files_are_named(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    with pytest.raises(CatalogueError, match=r"requirement catalogue not found: .*nowhere\.yaml"):
        load_catalogue(spec, tmp_path / "nowhere.yaml")
    with pytest.raises(CatalogueError, match=r"spec not found: .*nospec\.yaml"):
        load_catalogue(tmp_path / "nospec.yaml", tmp_path / "nowhere.yaml")


@pytest.mark.parametrize(
    ("spec_text", "expected"),
    [
        ("swagger: '2.0'\npaths: {/a: {}}\n", "not an OpenAPI 3 document"),
        ("openapi: 3.1.0\npaths: {}\n", "the spec has no paths"),
        ("openapi: 3.1.0\npaths: {/a: {get: {responses: {}}}}\n", "GET /a has no operationId"),
        (
            "openapi: 3.1.0\npaths: {/a: {get: {operationId: X}, put: {operationId: X}}}\n",
            r"operationId 'X' used twice \(GET /a, PUT /a\)",
        ),
    ],
)
def test_broken_spec_is_refused(tmp_path: Path, spec_text: str, expected: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    requirements = tmp_path / "requirements.yaml"
    requirements.write_text(GOOD, encoding="utf-8")
    with pytest.raises(CatalogueError, match=expected):
        load_catalogue(spec, requirements)


def test_lint_catches_what_only_code_can_build(tmp_path: Path) -> None:
    spec = yaml.safe_load(write_spec(tmp_path).read_text(encoding="utf-8"))
    documents = {"cancel": Document("cancel", "Cancel Journal Run", "000.txt")}
    ref = (SourceRef("cancel", "Notes"),)
    entries = [
        Entry(Requirement("JR-CANCEL-001", "MUST", "ok", "create", operations=("X",)), ref),
        Entry(Requirement("JR-CANCEL-002", "MUST", " ", "cancel", verification="maybe"), ref),
        Entry(Requirement("JR-CANCEL-003", "OFTEN", "ok", "cancel"), ()),  # type: ignore[arg-type]
    ]
    problems = lint(Catalogue(spec, entries, documents))
    assert problems == [
        "requirements[0] JR-CANCEL-001: id names area 'cancel', not 'create'",
        "requirements[0] JR-CANCEL-001: unknown operation 'X'",
        "requirements[1] JR-CANCEL-002: empty statement",
        "requirements[1] JR-CANCEL-002: verification must be 'checked' or"
        " 'not-observable: <reason>', not 'maybe'",
        "requirements[2] JR-CANCEL-003: level 'OFTEN' is not one of MUST, SHOULD, MAY",
        "requirements[2] JR-CANCEL-003: no source",
    ]


# -- summary and spec-info ----------------------------------------------------------------------


def test_summary_of_the_minimal_catalogue(tmp_path: Path) -> None:
    summary = load_text(tmp_path, GOOD).summary()
    assert "Operations (10):" in summary
    assert re.search(r"PUT\s+/v1/journal-runs/\{jr-number\}/cancel\s+PUT_JournalRun", summary)
    assert "Requirements: 2 (MUST 1, SHOULD 1, MAY 0)" in summary
    assert re.search(r"cancel\s+2\s+\(MUST 1, SHOULD 1, MAY 0\)", summary)
    assert re.search(r"create\s+0\s+\(MUST 0", summary)
    assert "Not observable: 1 (MUST 0, SHOULD 1, MAY 0)" in summary
    assert re.search(r"Run\.status\s+2 values", summary)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_spec_info_prints_operations_and_counts(catalogue: Catalogue) -> None:
    code, out, err = run_cli("spec-info")
    assert (code, err) == (0, "")
    for operation in catalogue.operations.values():
        assert re.search(
            rf"{operation.method}\s+{re.escape(operation.path)}\s+{operation.operation_id}\n", out
        )
    counts = Counter(r.level for r in catalogue.requirements.values())
    expected = f"MUST {counts['MUST']}, SHOULD {counts['SHOULD']}, MAY {counts['MAY']}"
    assert f"Requirements: {len(catalogue.requirements)} ({expected})" in out
    for area in AREAS:
        assert re.search(rf"^  {area}\s+{len(catalogue.by_area(area))}\s", out, re.MULTILINE)
    assert re.search(r"Not observable: \d+", out)
    assert re.search(r"\s29 values", out)  # the transaction types


def test_spec_info_reports_a_broken_catalogue_in_one_line(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.yaml"
    requirements.write_text(DUPLICATE, encoding="utf-8")
    spec = write_spec(tmp_path)
    code, out, err = run_cli("spec-info", "--spec", str(spec), "--requirements", str(requirements))
    assert code == CatalogueError.exit_code
    assert out == ""
    assert err.startswith("jr-conformance: CatalogueError: ") and "duplicate id" in err
    assert "Traceback" not in err
