"""Loading: YAML with line numbers, the JSON Schema, the meaning; bad files fail before sending."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from scenario_support import parse, write

from conformance import ScenarioFormatError
from conformance._catalogue import Catalogue
from conformance._resources import schema_path
from conformance.scenarios import load_scenario, load_scenarios

GOOD = """
id: good
title: A good scenario
requirements: [JR-CREATE-001]
vars:
  key: ${uuid}
steps:
  - name: create
    operation: POST_JournalRun
    body: {transferredToAccounting: Yes, on: no, journalEntryDate: 2014-11-04, n: 012}
    expect:
      status: 200
      body:
        /success: {equals: true}
    save:
      run: /journalRunNumber
  - name: get
    operation: GET_JournalRun
    path_params: {jr-number: "${run}"}
cleanup:
  - name: delete
    operation: DELETE_JournalRun
    path_params: {jr-number: "${run}"}
"""


def _error(tmp_path: Path, catalogue: Catalogue, text: str) -> str:
    path = write(tmp_path, "cancel/broken.yaml", text)
    with pytest.raises(ScenarioFormatError) as info:
        load_scenario(path, catalogue=catalogue)
    return str(info.value)


def test_a_good_file_loads_with_yaml_1_2_scalars(catalogue: Catalogue) -> None:
    scenario = parse(GOOD, catalogue)
    body = scenario.steps[0].body
    # Yes/no stay strings (transferredToAccounting: Yes), dates stay strings, 012 is 12.
    assert body == {
        "transferredToAccounting": "Yes",
        "on": "no",
        "journalEntryDate": "2014-11-04",
        "n": 12,
    }
    assert scenario.steps[1].path_params == {"jr-number": "${run}"}
    assert scenario.area == "create"  # from its first requirement, outside an area folder


def test_the_area_is_the_folder(tmp_path: Path, catalogue: Catalogue) -> None:
    path = write(tmp_path, "cancel/good.yaml", GOOD)
    assert load_scenario(path, catalogue=catalogue).area == "cancel"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param(
            GOOD.replace("status: 200", "status: [200"), 12, "invalid YAML", id="bad-yaml"
        ),
        pytest.param(
            GOOD.replace("status: 200", "status: abc"),
            11,
            "steps[0].expect.status: 'abc' is not of type integer",
            id="schema-violation",
        ),
        pytest.param(
            GOOD.replace("operation: GET_JournalRun", "operation: GET_JournalRuns"),
            17,
            "steps[1].operation: unknown operation 'GET_JournalRuns'",
            id="unknown-operation",
        ),
        pytest.param(
            GOOD.replace("[JR-CREATE-001]", "[JR-CREATE-999]"),
            3,
            "requirements[0]: unknown requirement 'JR-CREATE-999'",
            id="unknown-requirement",
        ),
        pytest.param(
            GOOD.replace('"${run}"}\ncleanup', '"${rn}"}\ncleanup'),
            18,
            "undefined variable ${rn}",
            id="undefined-variable",
        ),
        pytest.param(
            GOOD.replace(
                "/success: {equals: true}", "/success: {equals: true, requirement: JR-X-1}"
            ),
            13,
            "unknown requirement 'JR-X-1'",
            id="unknown-expectation-requirement",
        ),
        pytest.param(
            GOOD.replace("vars:", "capabilities: [time-travel]\nvars:"),
            4,
            "unknown capability 'time-travel'",
            id="unknown-capability",
        ),
        pytest.param(
            GOOD.replace('path_params: {jr-number: "${run}"}\ncleanup', "query: {a: 1}\ncleanup"),
            16,
            "needs path parameter 'jr-number'",
            id="missing-path-parameter",
        ),
        pytest.param(
            GOOD.replace("      status: 200\n", "      status: 200\n      status: 201\n"),
            12,
            "duplicate key 'status'",
            id="duplicate-key",
        ),
        pytest.param(
            GOOD.replace("/success: {equals: true}", "/success: {requirement: JR-CREATE-001}"),
            13,
            "needs an operator",
            id="no-operator",
        ),
        pytest.param(
            GOOD.replace("/success: {equals: true}", "/success: {matches: '(['}"),
            13,
            "invalid regular expression",
            id="bad-regex",
        ),
        pytest.param(
            GOOD.replace(
                '    path_params: {jr-number: "${run}"}\ncleanup',
                "    path_params: {jr-number: \"${key}\"}\n    save: {x: 'a..b'}\ncleanup",
            ),
            19,
            "neither a JSON pointer",
            id="bad-path",
        ),
        pytest.param("", 1, "the file is empty", id="empty"),
    ],
)
def test_malformed_files_are_rejected_with_file_and_line(
    tmp_path: Path, catalogue: Catalogue, text: str, line: int, fragment: str
) -> None:
    message = _error(tmp_path, catalogue, text)
    assert f"/cancel/broken.yaml:{line}: " in message, message
    assert fragment in message, message


def test_a_variable_saved_later_is_not_yet_defined(tmp_path: Path, catalogue: Catalogue) -> None:
    text = GOOD.replace(
        "  - name: create",
        "  - name: early\n    operation: GET_JournalRun\n"
        '    path_params: {jr-number: "${run}"}\n  - name: create',
    )
    message = _error(tmp_path, catalogue, text)
    assert "undefined variable ${run}" in message
    assert "broken.yaml:9:" in message


def test_duplicate_ids_across_files_are_rejected(tmp_path: Path, catalogue: Catalogue) -> None:
    write(tmp_path, "a/one.yaml", GOOD)
    write(tmp_path, "b/two.yaml", GOOD)
    with pytest.raises(ScenarioFormatError, match="'good' is already the id of"):
        load_scenarios([tmp_path], catalogue=catalogue)


def test_a_missing_path_is_a_format_error(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ScenarioFormatError, match="no such scenario file"):
        load_scenarios([tmp_path / "nope"], catalogue=catalogue)


def test_every_library_file_is_valid_against_the_shipped_schema(
    library: list[object],
) -> None:
    import yaml

    schema = json.loads(schema_path("scenario").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    paths = [s.path for s in library]  # type: ignore[attr-defined]
    assert len(paths) >= 40
    for path in paths:
        validator.validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_the_library_reports_its_own_paths(library: list[object]) -> None:
    shown = {s.display_path for s in library}  # type: ignore[attr-defined]
    assert "scenarios/cancel/partial-cancel-jr-00000075.yaml" in shown


MISSPELT = """
id: misspelt
title: Waits for a status no server answers
requirements: [JR-CANCEL-001]
steps:
  - name: wait
    operation: GET_JournalRun
    path_params: {jr-number: JR-99999999}
    repeat:
      until: {body: {/status: {equals: Cancelled}}}
      fail_fast: {body: {/status: {not_in: [CancelInProgress]}}}
      deadline_s: 60
"""


def test_a_misspelt_status_is_a_load_error(tmp_path: Path, catalogue: Catalogue) -> None:
    message = _error(tmp_path, catalogue, MISSPELT)
    assert message.startswith(f"{tmp_path / 'cancel' / 'broken.yaml'}:")
    assert "GET_JournalRun never answers /status = 'CancelInProgress'" in message
    assert "did you mean 'CancelInprogress'?" in message
    # The same values in an expectation of a step that sends another method are not checked
    # (its answer is not the operation's), nor are template values.
    other = MISSPELT.replace(
        "    operation: GET_JournalRun\n", "    operation: GET_JournalRun\n    method: PATCH\n"
    )
    load_scenario(write(tmp_path, "cancel/other.yaml", other), catalogue=catalogue)
    templated = MISSPELT.replace("[CancelInProgress]", '["${state}"]').replace(
        "steps:", "vars: {state: CancelInprogress}\nsteps:"
    )
    load_scenario(write(tmp_path, "cancel/templated.yaml", templated), catalogue=catalogue)
