"""Spec-driven fuzzing with schemathesis, taught the Journal Runs rules.

    from conformance.fuzz import FuzzOptions, FuzzTarget, run_fuzz

    checks = run_fuzz(
        load_catalogue(),
        FuzzTarget("http://127.0.0.1:8123", headers={"Authorization": "Bearer ..."}),
        FuzzOptions(max_examples=25, seed=0),
    )

One :class:`~conformance._results.CheckResult` (``kind="fuzz"``) per check of the suite
(``fuzz.error-envelope``, ``fuzz.lifecycle``, ...) and per group of schemathesis's built-in checks
(``fuzz.server-errors``, ``fuzz.response-schema``, ...).
"""

from ._builtins import BUILTIN_GROUPS, DISABLED, DISABLED_IN_LEGACY
from ._driver import FuzzResult, SecondTenant, fuzz, fuzz_checks, run_fuzz
from ._execute import Observer
from ._judge import Sent
from ._options import LEGACY_VERSION, MODERN_VERSION, PHASES, FuzzOptions, FuzzTarget
from ._registry import CUSTOM_CHECKS, FuzzCheck

__all__ = [
    "BUILTIN_GROUPS",
    "CUSTOM_CHECKS",
    "DISABLED",
    "DISABLED_IN_LEGACY",
    "LEGACY_VERSION",
    "MODERN_VERSION",
    "PHASES",
    "FuzzCheck",
    "FuzzOptions",
    "FuzzResult",
    "FuzzTarget",
    "Observer",
    "SecondTenant",
    "Sent",
    "fuzz",
    "fuzz_checks",
    "run_fuzz",
]
