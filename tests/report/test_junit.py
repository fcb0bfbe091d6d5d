"""junit.xml: one testcase per check, counts that match, evidence a CI log can show."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance import RunResult, Status
from conformance.report import render_junit


def _parse(run: RunResult) -> ET.Element:
    text = render_junit(run)
    assert text.startswith("<?xml")
    return ET.fromstring(text.encode("utf-8"))


def _suite(root: ET.Element) -> ET.Element:
    suite = root.find("testsuite")
    assert suite is not None
    return suite


def test_counts_match_the_testcases(mixed_run: RunResult) -> None:
    root = _parse(mixed_run)
    suite = _suite(root)
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c.id for c in mixed_run.checks]
    assert suite.get("tests") == root.get("tests") == "6"
    assert suite.get("failures") == root.get("failures") == "2"
    assert suite.get("errors") == root.get("errors") == "1"
    assert suite.get("skipped") == "1"
    assert [c.get("classname") for c in cases][:2] == ["scenario.create", "scenario.create"]
    assert cases[-1].get("classname") == "fuzz.create"


def test_a_failure_carries_message_evidence_and_requirements(mixed_run: RunResult) -> None:
    case = _suite(_parse(mixed_run)).find("testcase[@name='create-hostile']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("expected 201, got <script>")
    text = failure.text or ""
    assert "Failed assertions:" in text
    assert "[JR-CREATE-001] status is right (step create)" in text
    assert "expected: 201" in text
    assert "POST http://127.0.0.1:8123/v1/journal-runs?x=<script> -> 500" in text
    assert "curl -sS -X POST" in text
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties == {
        "requirement.JR-CREATE-001": "MUST",
        "requirement.JR-CREATE-003": "SHOULD",
    }


def test_huge_bodies_are_cut_and_control_characters_removed(mixed_run: RunResult) -> None:
    text = render_junit(mixed_run)
    assert len(text) < 20_000  # the body is 200 000 characters
    assert "\x00" not in text and "\x1b" not in text
    case = _suite(ET.fromstring(text)).find("testcase[@name='create-huge']")
    assert case is not None
    assert "more chars]" in (case.findtext("failure") or "")


def test_errors_skips_and_expected_failures(mixed_run: RunResult) -> None:
    mixed_run.checks[1].status = Status.XFAIL
    mixed_run.checks[1].expected_failure = "tracked in JR-123"
    suite = _suite(_parse(mixed_run))
    error = suite.find("testcase[@name='cancel-error']/error")
    assert error is not None and error.get("message") == "transport: timed out after 30 s"
    assert "error: timed out" in (error.text or "")
    skipped = suite.find("testcase[@name='delete-skip']/skipped")
    assert skipped is not None
    assert skipped.get("message") == "missing capability journal-entries"
    xfail = suite.find("testcase[@name='create-huge']/skipped")
    assert xfail is not None and xfail.get("type") == "xfail"
    assert xfail.get("message") == "expected failure: tracked in JR-123"
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "2")


def test_a_run_that_tested_nothing_is_never_green(empty_run: RunResult) -> None:
    suite = _suite(_parse(empty_run))
    assert (suite.get("tests"), suite.get("errors")) == ("1", "1")
    error = suite.find("testcase[@name='setup']/error")
    assert error is not None and "connection refused" in (error.get("message") or "")
    empty_run.setup_error = None
    suite = _suite(_parse(empty_run))
    assert suite.find("testcase[@name='checks']/error") is not None


def test_gate_problems_are_failures(pass_run: RunResult) -> None:
    pass_run.gate_problems = ["f.yaml: entry 1 (check 'x') matches nothing: stale entry"]
    suite = _suite(_parse(pass_run))
    assert (suite.get("tests"), suite.get("failures")) == ("5", "1")
    failure = suite.find("testcase[@classname='run.expected-failures']/failure")
    assert failure is not None and "stale entry" in (failure.get("message") or "")
