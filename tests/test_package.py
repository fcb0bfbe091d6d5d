"""The package's front door: what ``import conformance`` offers, and what it costs."""

from __future__ import annotations

import subprocess
import sys

import conformance
from conformance import _config, _plan, _run


def test_the_orchestrator_is_re_exported() -> None:
    assert conformance.run is _run.run
    assert conformance.make_plan is _plan.make_plan
    assert conformance.Plan is _plan.Plan and conformance.Scope is _plan.Scope
    assert conformance.load_config is _config.load_config
    assert conformance.Config is _config.Config
    for name in conformance.__all__:
        assert getattr(conformance, name) is not None


def test_importing_the_package_does_not_load_the_fuzzing_engine() -> None:
    code = "import sys, conformance; print('conformance._run' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
