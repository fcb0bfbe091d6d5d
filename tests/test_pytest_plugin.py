"""The pytest entry point: one pytest test per check, failures with requirement and evidence."""

from __future__ import annotations

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
    base_url={server.url!r}, select=["delete-refused-before-cancel"], max_examples=1
)
"""
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("JR_TOKEN", "plugin-token-123")
            result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*JR-DELETE-002*", "*DELETE*/v1/journal-runs/JR-*"])
    assert "plugin-token-123" not in result.stdout.str()
