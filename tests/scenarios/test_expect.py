"""Expectations judged on their own: paths, operators, and the error envelope's three readings."""

from __future__ import annotations

from typing import Any

import pytest

from conformance._envelope import error_style, parse_code, statuses_for
from conformance.scenarios import Expectation
from conformance.scenarios._expect import (
    NOT_JSON,
    Observed,
    describe,
    evaluate,
    find,
    judge,
    parse_path,
)


def body(path: str, **operators: Any) -> Expectation:
    return Expectation("body", parse_path(path), operators, ("JR-X-001",), path)


def error(*categories: int) -> Expectation:
    return Expectation("error", (), {"category": list(categories)}, ("JR-CREATE-003",), "error")


DOC = {"a": [{"n": "JE-00000001", "v": 1}, {"n": "JE-00000002", "v": 2.5}], "s": "x", "z": None}


def test_paths_pointer_dotted_and_wildcard() -> None:
    assert parse_path("/a/0/n") == ("a", "0", "n") == parse_path("a.0.n")
    assert parse_path("/x~1y~0z") == ("x/y~z",)
    assert find(DOC, parse_path("/a/*/n")) == ["JE-00000001", "JE-00000002"]
    assert find(DOC, parse_path("/a/5/n")) == []
    assert find(DOC, ()) == [DOC]
    with pytest.raises(ValueError):
        parse_path("a..b")


@pytest.mark.parametrize(
    ("path", "operators", "passed"),
    [
        ("/s", {"equals": "x"}, True),
        ("/s", {"equals": "y"}, False),
        ("/a/0/v", {"equals": True}, False),  # JSON: true is not 1
        ("/a/1/v", {"type": "number", "min": 2, "max": "2.5"}, True),
        ("/a/0/v", {"type": "integer"}, True),
        ("/a/*/n", {"matches": r"^JE-\d{8}$"}, True),
        ("/a/*/v", {"in": [1, 2]}, False),
        ("/a/*/n", {"not_in": ["JE-00000003"]}, True),
        ("/a", {"length": {"min": 2, "max": 2}}, True),
        ("/a", {"length": 3}, False),
        ("/missing", {"absent": True}, True),
        ("/missing", {"exists": True}, False),
        ("/missing", {"equals": 1}, False),
        ("/missing", {"equals": 1, "optional": True}, True),
        ("/z", {"type": "null", "optional": True}, True),
        ("/s", {"not_equals": "x"}, False),
        # ignoring: keys left out of equals on both sides, only there
        ("", {"equals": {**DOC, "s": "other", "r": 1}, "ignoring": ["s", "r"]}, True),
        ("", {"equals": {**DOC, "s": "other"}, "ignoring": ["z"]}, False),
        ("", {"not_equals": {**DOC, "s": "other"}, "ignoring": ["s"]}, False),
    ],
)
def test_operators(path: str, operators: dict[str, Any], passed: bool) -> None:
    outcome = evaluate(body(path, **operators), Observed(200, body=DOC))
    assert outcome.passed is passed, outcome
    if not passed:
        assert outcome.detail


def test_a_body_that_is_not_json_fails_body_expectations() -> None:
    outcome = evaluate(body("/s", equals="x"), Observed(200, body=NOT_JSON))
    assert not outcome.passed and outcome.detail == "the body is not JSON"


def test_headers_are_case_insensitive() -> None:
    expectation = Expectation("header", ("zuora-track-id",), {"equals": "t1"}, ("JR-X-001",))
    assert evaluate(expectation, Observed(200, headers={"Zuora-Track-Id": "t1"})).passed


def envelope(code: Any, success: Any = False) -> dict[str, Any]:
    return {"success": success, "reasons": [{"code": code, "message": "no"}]}


def test_the_error_style_table() -> None:
    assert error_style("2024-05-20") == error_style("2025-08-12") == "modern"
    assert error_style("341.0") == error_style("186.0") == error_style("2023-01-01") == "legacy"
    assert error_style(None) == error_style("banana") == "default"
    # the documented numbers are 186.0 ... 341.0: just outside them a number is unknown
    assert error_style("185.0") == error_style("342.0") == error_style("185.9") == "default"
    assert error_style("186") == error_style("341") == "legacy"
    assert statuses_for([40], "modern") == (404,)
    assert statuses_for([40], "legacy") == (200,)
    assert statuses_for([40], "default") == (200, 404)
    assert statuses_for([11], "legacy") == (200, 401)  # 401 in every style
    assert statuses_for([45], "modern") == (405, 406, 415)
    assert parse_code(50000040) == parse_code("50000040") == (500000, 40)
    assert parse_code("5000040") is None and parse_code(True) is None


@pytest.mark.parametrize(
    ("observed", "failed"),
    [
        (Observed(404, body=envelope("50000040"), zuora_version="2024-05-20"), []),
        (Observed(200, body=envelope(50000040), zuora_version="341.0"), []),
        (Observed(200, body=envelope("50000040")), []),  # no version: either style
        (Observed(404, body=envelope("50000040")), []),
        # Modern version, legacy answer: only the version requirement fails.
        (Observed(200, body=envelope("50000040"), zuora_version="2024-05-20"), ["JR-VERSIONS-003"]),
        # A legacy version answered with the modern status.
        (Observed(404, body=envelope("50000040"), zuora_version="341.0"), ["JR-VERSIONS-001"]),
        # A seven-digit code: only the code format fails (its category still reads 40).
        (Observed(404, body=envelope("5000040"), zuora_version="2024-05-20"), ["JR-ERRORS-004"]),
        # The wrong category: the step's own requirement.
        (Observed(400, body=envelope("50000020"), zuora_version="2024-05-20"), ["JR-CREATE-003"]),
        # Not refused at all: only the step's requirement (the rest would repeat it).
        (Observed(200, body={"success": True}, zuora_version="2024-05-20"), ["JR-CREATE-003"]),
        # A gateway's 401 may have any body.
        (Observed(401, body=NOT_JSON, zuora_version="2024-05-20"), []),
        # An unknown version is the default style, and JR-VERSIONS-004 speaks for it too.
        (
            Observed(500, body=envelope("50000040"), zuora_version="banana"),
            ["JR-VERSIONS-002", "JR-VERSIONS-004"],
        ),
    ],
)
def test_error_facets_blame_what_they_verify(observed: Observed, failed: list[str]) -> None:
    category = 11 if observed.status == 401 else 40
    facets = judge(error(category), observed)
    blamed = [rid for rids, outcome in facets if not outcome.passed for rid in rids]
    assert blamed == failed, [(rids, o.detail) for rids, o in facets]
    assert evaluate(error(category), observed).passed is (not failed)


def test_an_authentication_refusal_in_every_reading_jr_auth_001_allows() -> None:
    """error: {category: 11, any_body_on_401: true}: a 401 with any body, or (legacy style only)
    HTTP 200 with success false and category 11; nothing else."""
    refusal = Expectation(
        "error", (), {"category": [11], "any_body_on_401": True}, ("JR-AUTH-001",), "error"
    )
    legacy, modern = "341.0", "2025-08-12"
    passing = [
        Observed(401, body={"message": "Authentication error"}, zuora_version=modern),
        Observed(401, body=envelope("50000010"), zuora_version=legacy),  # JR-AUTH-002's business
        Observed(200, body=envelope("50000011"), zuora_version=legacy),
    ]
    for observed in passing:
        assert all(outcome.passed for _, outcome in judge(refusal, observed)), observed
    failing = [
        Observed(200, body=envelope("50000040"), zuora_version=legacy),  # served as not found
        Observed(200, body=envelope("50000011"), zuora_version=modern),  # legacy in modern
        Observed(200, body={"success": True}, zuora_version=legacy),
    ]
    for observed in failing:
        assert not all(outcome.passed for _, outcome in judge(refusal, observed)), observed
    assert "or HTTP 401 with any body" in describe(refusal)


def test_a_declared_default_style_makes_no_version_strict() -> None:
    observed = Observed(404, body=envelope("50000040"), default_style="legacy")
    facets = judge(error(40), observed)
    status = facets[-1]
    assert status[0] == ("JR-VERSIONS-002",)
    assert not status[1].passed
    assert "the target's default style is legacy" in status[1].description
