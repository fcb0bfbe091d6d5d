"""Scenarios: multi-step flows in YAML, run against any base URL.

``load_scenarios`` reads and checks a library of scenario files (rejecting a malformed one with a
:class:`~conformance.ScenarioFormatError` before anything is sent); ``run_scenarios`` runs them,
one :class:`~conformance.CheckResult` per scenario. The format is described in
``scenarios/README.md`` and by ``conformance/schemas/scenario.schema.json``.
"""

from .._tenants import CAPABILITIES
from ._loader import load_fixtures, load_scenario, load_scenarios, parse_scenario
from ._model import Expectation, ExpectBlock, ForEach, Repeat, Save, Scenario, Step
from ._runner import OnResult, run_scenarios

__all__ = [
    "CAPABILITIES",
    "ExpectBlock",
    "Expectation",
    "ForEach",
    "OnResult",
    "Repeat",
    "Save",
    "Scenario",
    "Step",
    "load_fixtures",
    "load_scenario",
    "load_scenarios",
    "parse_scenario",
    "run_scenarios",
]
