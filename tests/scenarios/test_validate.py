"""Responses against the spec: the schema of the operation and status, formats asserted."""

from __future__ import annotations

from conformance._catalogue import Catalogue
from conformance._validate import ResponseValidator, fill_path, match_path


def test_fill_path_encodes_every_parameter() -> None:
    template = "/v1/journal-runs/{jr-number}/cancel"
    assert (
        fill_path(template, {"jr-number": "JR-1/../x"}) == "/v1/journal-runs/JR-1%2F..%2Fx/cancel"
    )


def test_match_path_is_the_inverse_of_fill_path() -> None:
    template = "/v1/journal-entries/journal-runs/{jr-number}"
    path = fill_path(template, {"jr-number": "JR 1/2"})
    assert match_path(template, path) == {"jr-number": "JR 1/2"}
    assert match_path("/v1/journal-entries/{je-number}", path) is None  # one segment each
    assert match_path("/v1/journal-runs", "/v1/journal-runs") == {}


RUN = {
    "success": True,
    "number": "JR-00000001",
    "status": "Completed",
    "journalEntryDate": "2014-11-04",
    "transactionTypes": [{"type": "Invoice Item"}],
}


def test_valid_and_invalid_answers(catalogue: Catalogue) -> None:
    validator = ResponseValidator(catalogue.spec)
    assert validator.validate("GET_JournalRun", 200, RUN, is_json=True).valid
    bad = dict(RUN, status="Canceled", journalEntryDate="2014-13-01")
    verdict = validator.validate("GET_JournalRun", 200, bad, is_json=True)
    assert not verdict.valid
    paths = {problem.path for problem in verdict.problems}
    assert ("status",) in paths and ("journalEntryDate",) in paths
    assert verdict.response == "GET_JournalRun 200"


def test_a_legacy_error_is_judged_against_the_error_branch(catalogue: Catalogue) -> None:
    """A 200 answer is a run or an error envelope: problems come from the closer branch."""
    validator = ResponseValidator(catalogue.spec)
    body = {"success": False, "reasons": [{"code": "5000040", "message": "gone"}]}
    verdict = validator.validate("GET_JournalRun", 200, body, is_json=True)
    assert [p.path for p in verdict.problems] == [("reasons", 0, "code")]


def test_a_401_is_held_to_the_envelope_only_when_it_has_reasons(catalogue: Catalogue) -> None:
    """A gateway may refuse the credentials first, with a body of any shape (JR-AUTH-002): the
    spec's 401 schema is the envelope only for a body that carries reasons."""
    validator = ResponseValidator(catalogue.spec)
    assert validator.validate("GET_JournalRun", 401, {"message": "no"}, is_json=True).valid
    envelope = {"success": False, "reasons": [{"code": "5000011", "message": "no"}]}
    assert not validator.validate("GET_JournalRun", 401, envelope, is_json=True).valid


def test_undocumented_status_and_non_json(catalogue: Catalogue) -> None:
    validator = ResponseValidator(catalogue.spec)
    verdict = validator.validate("GET_JournalRun", 418, {}, is_json=True)
    assert not verdict.valid and "HTTP 418 is not a documented response" in str(verdict.problems[0])
    verdict = validator.validate("GET_JournalRun", 200, None, is_json=False)
    assert not verdict.valid and str(verdict.problems[0]) == "the body: is not JSON"


def test_the_stricter_validator_wins_where_regex_dialects_differ(catalogue: Catalogue) -> None:
    """The fast validator speaks ECMA-262 regexes (``\\d`` is 0-9); Python's ``\\d`` also takes
    other digits. A number with an Arabic-Indic digit is still reported, at its field."""
    validator = ResponseValidator(catalogue.spec)
    run = dict(RUN, number="JR-0000000\u0661")
    verdict = validator.validate("GET_JournalRun", 200, run, is_json=True)
    assert [problem.path for problem in verdict.problems] == [("number",)]


def test_a_recursive_schema_is_validated_through_the_registry() -> None:
    """A schema that refers to itself cannot be inlined; it is still validated, fully."""
    spec = {
        "openapi": "3.1.0",
        "paths": {
            "/tree": {
                "get": {
                    "operationId": "tree",
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Node"}
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        },
                    },
                }
            }
        },
    }
    validator = ResponseValidator(spec)
    good = {"name": "a", "children": [{"name": "b", "children": []}]}
    assert validator.validate("tree", 200, good, is_json=True).valid
    verdict = validator.validate("tree", 200, {"name": "a", "children": [{}]}, is_json=True)
    assert [str(p) for p in verdict.problems] == ["/children/0/name: required, missing"]


def test_a_body_claiming_success_is_judged_against_the_success_branch(
    catalogue: Catalogue,
) -> None:
    """``success: true`` with most run fields missing is closer to the error envelope by count,
    but the body claims success: the problems are those of the run, not 'reasons' missing."""
    validator = ResponseValidator(catalogue.spec)
    body = {"success": True, "status": "Done"}
    problems = [
        str(p) for p in validator.validate("GET_JournalRun", 200, body, is_json=True).problems
    ]
    assert problems == [
        "/journalEntryDate: required, missing",
        "/number: required, missing",
        '/status: expected one of ["Pending", "Processing", "Completed", "Error", '
        '"CancelInprogress", "Cancelled", "DeleteInprogress"], got "Done"',
        "/transactionTypes: required, missing",
    ]
    assert not any("reasons" in p for p in problems)


def test_a_body_claiming_failure_is_judged_against_the_error_branch(catalogue: Catalogue) -> None:
    validator = ResponseValidator(catalogue.spec)
    verdict = validator.validate("GET_JournalRun", 200, {"success": False}, is_json=True)
    assert [str(p) for p in verdict.problems] == ["/reasons: required, missing"]


def test_messages_name_the_field_what_was_expected_and_what_came(catalogue: Catalogue) -> None:
    validator = ResponseValidator(catalogue.spec)
    bad = dict(RUN, totalJournalEntryCount="abc", journalEntryDate="2014-13-01")
    problems = [
        str(p) for p in validator.validate("GET_JournalRun", 200, bad, is_json=True).problems
    ]
    assert problems == [
        '/journalEntryDate: expected a date string, got "2014-13-01"',
        '/totalJournalEntryCount: expected integer, got "abc"',
    ]


def test_long_lists_of_problems_are_cut_short(catalogue: Catalogue) -> None:
    validator = ResponseValidator(catalogue.spec)
    bad = dict(RUN, number=5, status=1, journalEntryDate=2, aggregateCurrency="x")
    bad.update(totalJournalEntryCount="y", executedOn=3, targetStartDate=4)
    problems = [
        str(p) for p in validator.validate("GET_JournalRun", 200, bad, is_json=True).problems
    ]
    assert len(problems) == 6 and problems[-1] == "+3 more"
    assert problems[0] == '/aggregateCurrency: expected boolean, got "x"'
