"""Gate a server's own pytest run on the conformance suite: one pytest test per check.

In the server's repository::

    # tests/test_journal_runs_conformance.py
    from conformance.pytest_plugin import conformance_tests

    test_conformance = conformance_tests(base_url="http://127.0.0.1:8080")

Credentials come from the environment, as for ``jr-conformance run`` (``JR_TOKEN``, or
``JR_CLIENT_ID`` and ``JR_CLIENT_SECRET``). The suite runs once, at the first test, and each check
(preflight, every scenario, every fuzz check) is reported as its own pytest test: a failure shows
the requirement IDs and the evidence; a skipped check (a missing capability) is a pytest skip; an
expected failure is a pytest xfail; a warning (a SHOULD or MAY not met) passes with a pytest
warning, and fails with ``strict=True``. The gate is the run's own (``expected_failures=``,
``strict=``), so the outcome matches ``jr-conformance run``: a problem in the expected-failures
file fails an extra ``gate`` test. ``base_url=None`` tests the embedded reference server.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from ._catalogue import load_catalogue
from ._config import load_config
from ._plan import make_plan
from ._results import EXIT_INTERRUPTED, EXIT_SETUP, CheckResult, RunResult, Status
from ._run import run


def conformance_tests(
    *,
    base_url: str | None = None,
    select: Sequence[str] = (),
    max_examples: int = 10,
    **settings: Any,
) -> Callable[[str], None]:
    """A pytest test function, parametrized with the id of every check the selection plans.

    ``settings`` are any other run settings (``zuora_version``, ``capabilities``, ``tenants``,
    ``reports_dir`` ...), as in a config file.
    """
    flags: dict[str, Any] = {
        "base_url": base_url,
        "select": list(select) or None,
        "max_examples": max_examples,
        "progress": "quiet",
        **settings,
    }
    config = load_config(flags, env=dict(os.environ))
    plan = make_plan(config, load_catalogue())
    ids = ["preflight", *(s.id for s in plan.scenarios), *(c.id for c in plan.fuzz_checks)]
    if config.expected_failures is not None:
        ids.append(GATE_TEST)
    results: dict[str, RunResult] = {}

    def outcome() -> RunResult:
        if "run" not in results:  # the suite runs once, for every test of the function
            results["run"] = run(config)
        return results["run"]

    @pytest.mark.parametrize("check_id", ids)
    def test_conformance(check_id: str) -> None:
        result = outcome()
        # The run's own exit rule (RunResult.exit_code), as `jr-conformance run` exits.
        if result.exit_code == EXIT_SETUP:
            pytest.fail(f"setup error: {result.setup_error}", pytrace=False)
        if result.exit_code == EXIT_INTERRUPTED:
            pytest.fail("the run was interrupted", pytrace=False)
        if check_id == GATE_TEST:
            if result.gate_problems:
                pytest.fail("\n".join(result.gate_problems), pytrace=False)
            return
        check = next((c for c in result.checks if c.id == check_id), None)
        if check is None:
            pytest.fail(f"{check_id}: the run produced no result for this check", pytrace=False)
        _judge(check, strict=result.strict)

    return test_conformance


#: The extra test that fails when the expected-failures file is stale or lists a passing check.
GATE_TEST = "expected-failures-file"


class ConformanceWarning(UserWarning):
    """A SHOULD or MAY requirement the target does not meet (a WARN)."""


def _judge(check: CheckResult, *, strict: bool = False) -> None:
    from .report._evidence import evidence_text

    if check.status is Status.SKIP:
        pytest.skip(check.message)
    if check.status is Status.XFAIL:
        pytest.xfail(check.expected_failure or check.message)
    if check.status is Status.WARN and not strict:
        requirements = ", ".join(check.all_requirement_ids()) or "no requirement"
        warnings.warn(f"{check.id}: {check.message} [{requirements}]", ConformanceWarning, 2)
        return
    if check.status >= Status.WARN:
        requirements = ", ".join(check.all_requirement_ids()) or "no requirement"
        text = f"{check.status.label}: {check.message} [{requirements}]\n{evidence_text(check)}"
        pytest.fail(text, pytrace=False)
