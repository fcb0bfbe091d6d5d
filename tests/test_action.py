"""action.yml: its `run:` steps, run the way the GitHub runner runs a composite action's steps.

The harness reads action.yml with PyYAML, substitutes the ``${{ inputs.X }}``,
``${{ github.action_path }}`` and ``${{ steps.ID.outputs.NAME }}`` expressions (any other
expression fails the test, so the harness cannot silently differ from the runner), gives every
input as an ``INPUT_*`` variable too, and runs each step with ``bash --noprofile --norc -eo
pipefail`` (the runner's ``shell: bash``) with temporary ``GITHUB_STEP_SUMMARY`` and
``GITHUB_OUTPUT`` files. ``uses:`` steps (setup-python, upload-artifact) are skipped, and so is
the pip install step: the suite is already installed in this venv, whose ``bin`` leads PATH.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    name: str
    skipped: str | None = None
    code: int = 0
    output: str = ""


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> StepRun | None:
        return next((s for s in self.steps if s.skipped is None and s.code != 0), None)


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return action


def _substitute(text: str, context: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("steps.") and expression not in context:
            return ""  # the runner's value for an output a step did not set
        if expression not in context:
            raise AssertionError(f"the harness does not know the expression {expression!r}")
        return context[expression]

    return EXPRESSION.sub(value, text)


def run_action(inputs: dict[str, str], workspace: Path) -> ActionRun:
    action = load_action()
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"not inputs of the action: {unknown}"
    values = {name: inputs.get(name, spec.get("default", "")) for name, spec in declared.items()}
    context = {f"inputs.{name}": str(value) for name, value in values.items()}
    context["github.action_path"] = str(ROOT)
    summary = workspace / "step-summary.md"
    summary.write_text("")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JR_", "GITHUB_", "INPUT_"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    env["GITHUB_WORKSPACE"] = str(workspace)
    env["GITHUB_ACTION_PATH"] = str(ROOT)
    for name, value in values.items():
        env[f"INPUT_{name.upper()}"] = str(value)  # the runner's own spelling (dashes kept)
    result = ActionRun()
    failed = False
    for number, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {number}")
        condition = str(step.get("if", "success()"))
        if failed and "always()" not in condition:
            result.steps.append(StepRun(name, skipped="an earlier step failed"))
            continue
        if "uses" in step:
            result.steps.append(StepRun(name, skipped=f"uses {step['uses']}"))
            continue
        if "pip install" in step["run"]:
            assert '"${{ github.action_path }}"' in step["run"]  # installs the action's own copy
            result.steps.append(StepRun(name, skipped="already installed"))
            continue
        assert step.get("shell") == "bash", f"{name}: a composite run step needs shell: bash"
        output_file = workspace / f"output-{number}"
        output_file.write_text("")
        step_env = dict(env, GITHUB_OUTPUT=str(output_file))
        for key, value in (step.get("env") or {}).items():
            step_env[key] = _substitute(str(value), context)
        script = workspace / f"step-{number}.sh"
        script.write_text(_substitute(step["run"], context))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        result.steps.append(StepRun(name, code=done.returncode, output=done.stdout + done.stderr))
        failed = failed or done.returncode != 0
        if "id" in step:
            for line in output_file.read_text().splitlines():
                key, _, value = line.partition("=")
                context[f"steps.{step['id']}.outputs.{key}"] = value
    result.summary = summary.read_text()
    for name, spec in (action.get("outputs") or {}).items():
        result.outputs[name] = _substitute(str(spec["value"]), context)
    return result


def test_the_action_is_composite_and_complete() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    assert {
        "base-url",
        "select",
        "capabilities",
        "period",
        "second-period",
        "earliest-date",
        "expected-failures",
        "strict",
    } <= set(action["inputs"])
    uses = [step["uses"] for step in action["runs"]["steps"] if "uses" in step]
    assert "actions/upload-artifact@v4" in uses  # pinned to a major
    assert all(re.search(r"@v\d+$", u) for u in uses)
    text = ACTION.read_text()
    assert "${{ secrets." not in text  # credentials come through the caller's env
    # No input is pasted into a script: each reaches it through an environment variable.
    for step in action["runs"]["steps"]:
        assert "${{ inputs." not in step.get("run", "")


def test_against_the_reference_it_passes_and_writes_the_job_summary(tmp_path: Path) -> None:
    run = run_action({"select": "bad-credentials", "args": "--quiet"}, tmp_path)
    assert run.failed is None, [(s.name, s.code, s.output[-2000:]) for s in run.steps]
    assert [s.skipped is None for s in run.steps] == [False, False, True, True, False, True]
    assert run.summary.startswith("## Journal Runs conformance: PASS")
    assert run.outputs == {"exit-code": "0", "reports": "reports"}
    reports = tmp_path / "reports"
    assert {"results.json", "summary.md", "exchanges.har", "badge.json"} <= {
        p.name for p in reports.iterdir()
    }
    assert "conforms (jr-conformance exit 0)" in run.steps[-1].output


def test_a_failing_gate_fails_the_job_after_the_summary(tmp_path: Path) -> None:
    known = tmp_path / "known.yaml"
    known.write_text(
        "version: 1\nexpected_failures:\n  - {check: no-such-check, reason: 'stale on purpose'}\n"
    )
    run = run_action(
        {
            "select": "bad-credentials",
            "expected-failures": "known.yaml",
            "reports": "out/conformance",
            "strict": "true",
            "args": "--quiet",
        },
        tmp_path,
    )
    assert run.outputs["exit-code"] == "1"
    assert run.failed is run.steps[-1] and run.steps[-1].code == 1
    assert "::error::the implementation does not conform (exit 1)" in run.steps[-1].output
    assert "stale entry" in run.summary  # the summary was written before the job failed
    assert (tmp_path / "out" / "conformance" / "results.json").is_file()


@pytest.mark.parametrize(("strict", "code"), [("maybe", "2")])
def test_a_bad_input_is_a_usage_error(tmp_path: Path, strict: str, code: str) -> None:
    run = run_action({"strict": strict}, tmp_path)
    assert run.steps[2].code == int(code)
    assert "strict must be true or false" in run.steps[2].output
    # The run step failed: the summary step still says why nothing was written.
    assert "jr-conformance wrote no summary" in run.summary
