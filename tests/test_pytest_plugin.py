"""The pytest entry point: one pytest test per check, failures with requirement and evidence."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["pytester"]

GOOD = """
from conformance.pytest_plugin import conformance_tests

test_conformance = conformance_tests(select=["cancel-completed-run"], max_examples=1)
"""


def test_each_check_is_one_pytest_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_server=GOOD)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)  # preflight and the one scenario
    result.stdout.fnmatch_lines(["*2 passed*"])


def test_a_broken_server_fails_with_the_requirement_and_evidence(
    pytester: pytest.Pytester,
) -> None:
    from conformance.reference import ReferenceServer, ReferenceSettings

    settings = ReferenceSettings(
        tokens=("plugin-token-123",), faults=frozenset({"delete-completed"})
    )
    with ReferenceServer(settings) as server:
        pytester.makepyfile(
            test_server=f"""
from conformance.pytest_plugin import conformance_tests

test_conformance = conformance_tests(
    base_url={server.url!r}, select=["delete-after-cancel"], max_examples=1
)
"""
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("JR_TOKEN", "plugin-token-123")
            result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*JR-DELETE-002*", "*DELETE*/v1/journal-runs/JR-*"])
    assert "plugin-token-123" not in result.stdout.str()


def _faulty_plugin_run(pytester: pytest.Pytester, fault: str, select: str, extra: str) -> Any:
    from conformance.reference import ReferenceServer, ReferenceSettings

    settings = ReferenceSettings(tokens=("plugin-token-123",), faults=frozenset({fault}))
    with ReferenceServer(settings) as server:
        pytester.makepyfile(
            test_server=f"""
from conformance.pytest_plugin import conformance_tests

test_conformance = conformance_tests(
    base_url={server.url!r}, select=[{select!r}], max_examples=1, {extra}
)
"""
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("JR_TOKEN", "plugin-token-123")
            return pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")


def test_expected_failures_apply_through_the_entry_point(pytester: pytest.Pytester) -> None:
    known = pytester.path / "known.yaml"
    known.write_text(
        "version: 1\nexpected_failures:\n"
        "  - check: delete-after-cancel\n    reason: tracked as JR-12\n"
    )
    result = _faulty_plugin_run(
        pytester,
        "delete-completed",
        "delete-after-cancel",
        f"expected_failures={str(known)!r}",
    )
    # preflight passes, the scenario is an xfail, and the file's gate test passes
    result.assert_outcomes(passed=2, xfailed=1)

    known.write_text(
        "version: 1\nexpected_failures:\n"
        "  - check: delete-after-cancel\n    reason: tracked as JR-12\n"
        "  - check: no-such-check\n    reason: stale\n"
    )
    result = _faulty_plugin_run(
        pytester,
        "delete-completed",
        "delete-after-cancel",
        f"expected_failures={str(known)!r}",
    )
    result.assert_outcomes(passed=1, xfailed=1, failed=1)
    result.stdout.fnmatch_lines(["*matches nothing: stale entry*"])


def test_a_should_failure_is_a_pytest_warning_unless_strict(pytester: pytest.Pytester) -> None:
    result = _faulty_plugin_run(
        pytester, "rate-limit-headers-missing", "rate-limit-headers-should", "strict=False"
    )
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*ConformanceWarning*JR-HEADERS-008*"])
    result = _faulty_plugin_run(
        pytester, "rate-limit-headers-missing", "rate-limit-headers-should", "strict=True"
    )
    result.assert_outcomes(passed=1, failed=1)
