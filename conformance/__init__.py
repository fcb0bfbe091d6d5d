"""journal-runs-conformance: contract tests and a conformance suite for the Journal Runs API.

The public API is re-exported here; everything in an underscore module is an implementation detail.

    from conformance import load_config, run

    result = run(load_config({"base_url": "https://sandbox.example", "select": ["JR-CANCEL-*"]}))
    result.verdict.label, result.exit_code  # ("pass", 0) when all is as expected

``run`` (and ``make_plan``, ``Plan``, ``Scope``) load the fuzzing engine, so they are imported
when first used, not with the package.
"""

from typing import TYPE_CHECKING, Any

from ._catalogue import AREAS, Requirement
from ._config import Config, load_config
from ._exceptions import (
    CatalogueError,
    ConfigError,
    ConformanceError,
    ScenarioFormatError,
    SetupError,
    TransportError,
    UsageError,
)
from ._results import (
    Assertion,
    CheckResult,
    Exchange,
    RunResult,
    Stage,
    Status,
    Target,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._plan import Plan, Scope, make_plan
    from ._run import run

#: Re-exported on first use (see the module's docstring).
_LAZY = {"Plan", "Scope", "make_plan", "run"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import _plan, _run

        return getattr(_run if name == "run" else _plan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AREAS",
    "Assertion",
    "CatalogueError",
    "CheckResult",
    "Config",
    "ConfigError",
    "ConformanceError",
    "Exchange",
    "Plan",
    "Requirement",
    "RunResult",
    "ScenarioFormatError",
    "Scope",
    "SetupError",
    "Stage",
    "Status",
    "Target",
    "TransportError",
    "UsageError",
    "__version__",
    "load_config",
    "make_plan",
    "run",
]
