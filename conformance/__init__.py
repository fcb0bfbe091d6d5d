"""journal-runs-conformance: contract tests and a conformance suite for the Journal Runs API.

The public API is re-exported here; everything in an underscore module is an implementation detail.
"""

from ._catalogue import AREAS, Requirement
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

__all__ = [
    "AREAS",
    "Assertion",
    "CatalogueError",
    "CheckResult",
    "ConfigError",
    "ConformanceError",
    "Exchange",
    "Requirement",
    "RunResult",
    "ScenarioFormatError",
    "SetupError",
    "Stage",
    "Status",
    "Target",
    "TransportError",
    "UsageError",
    "__version__",
]
