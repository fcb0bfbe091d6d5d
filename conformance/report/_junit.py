"""``junit.xml``: one testcase per check, for CI systems that show JUnit results.

Expected failures are ``skipped`` (as pytest reports xfail). A run that could not test the target,
ran nothing, or has a stale expected-failures file gets an extra testcase saying so, so that CI
never shows such a run as green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .._results import CheckResult, RunResult, Status
from ._evidence import evidence_text, one_line, reason
from ._summary import Summary, summarise

# Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _testcase(suite: ET.Element, check: CheckResult, levels: dict[str, str], strict: bool) -> None:
    case = _sub(
        suite,
        "testcase",
        classname=f"{check.kind}.{check.area}",
        name=check.id,
        time=f"{check.duration_s:.3f}",
    )
    properties = _sub(case, "properties")
    for requirement_id in check.all_requirement_ids():
        level = levels.get(requirement_id, "unknown")
        _sub(properties, "property", name=f"requirement.{requirement_id}", value=level)
    if check.expected_failure:
        _sub(properties, "property", name="expected_failure", value=check.expected_failure)
    if check.status is Status.WARN:
        # JUnit has no warning: a strict run fails on it, otherwise the case passes and says so.
        _sub(properties, "property", name="status", value="warn")
        if strict:
            _sub(case, "failure", evidence_text(check), message=reason(check), type="warning")
        else:
            _sub(case, "system-out", f"warning (SHOULD or MAY not met)\n{evidence_text(check)}")
    elif check.status is Status.FAIL:
        _sub(case, "failure", evidence_text(check), message=reason(check), type="nonconformance")
    elif check.status is Status.ERROR:
        _sub(case, "error", evidence_text(check), message=reason(check), type="error")
    elif check.status is Status.XFAIL:
        message = f"expected failure: {one_line(check.expected_failure or '')}"
        _sub(case, "skipped", evidence_text(check), message=message, type="xfail")
    elif check.status is Status.SKIP:
        _sub(case, "skipped", message=reason(check))
    if not properties:
        case.remove(properties)


def _run_cases(suite: ET.Element, result: RunResult) -> None:
    """Testcases for what is wrong with the run as a whole rather than with one check."""
    if result.setup_error:
        case = _sub(suite, "testcase", classname="run", name="setup", time="0")
        _sub(case, "error", result.setup_error, message=one_line(result.setup_error), type="setup")
    elif not result.checks:
        case = _sub(suite, "testcase", classname="run", name="checks", time="0")
        message = "no checks ran: an empty run proves nothing"
        _sub(case, "error", message, message=message, type="empty")
    for number, problem in enumerate(result.gate_problems, start=1):
        case = _sub(suite, "testcase", classname="run.expected-failures", name=f"entry-{number}")
        _sub(case, "failure", problem, message=one_line(problem), type="expected-failures")


def render_junit(result: RunResult, summary: Summary | None = None) -> str:
    summary = summary or summarise(result)
    levels: dict[str, str] = {r.id: r.level for r in result.requirements}
    root = ET.Element("testsuites", name="jr-conformance")
    suite = _sub(
        root,
        "testsuite",
        name=f"jr-conformance {result.target.base_url}",
        timestamp=result.started_at,
        hostname=result.target.base_url,
    )
    suite_properties = _sub(suite, "properties")
    _sub(suite_properties, "property", name="run_id", value=result.run_id)
    _sub(suite_properties, "property", name="tool_version", value=result.tool_version)
    _sub(suite_properties, "property", name="status", value=summary.verdict.label)
    for check in result.checks:
        _testcase(suite, check, levels, result.strict)
    _run_cases(suite, result)

    # The counts are taken from the document itself, so they cannot disagree with it.
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(c.find("failure") is not None for c in cases),
        "errors": sum(c.find("error") is not None for c in cases),
        "skipped": sum(c.find("skipped") is not None for c in cases),
    }
    time = f"{sum(float(c.get('time', '0')) for c in cases):.3f}"
    for element in (root, suite):
        element.set("time", time)
        for name, count in counts.items():
            if element is root and name == "skipped":
                continue  # <testsuites> has no skipped attribute in the usual schema
            element.set(name, str(count))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
