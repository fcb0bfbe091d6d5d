"""Expected failures: known failures a team accepts for now, kept honest.

A failing check that matches an entry becomes ``xfail`` with the entry's reason. An entry that
matches a check that now passes, or no check at all, is a :class:`GateProblem`: the file must
shrink as the implementation improves, or it would hide the next regression.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from .._exceptions import ConfigError
from .._resources import schema_path
from .._results import CheckResult, RunResult, Status
from ._evidence import one_line, reason


@dataclass(frozen=True)
class ExpectedFailure:
    """One entry: a check ID or fnmatch glob (case-sensitive), an optional requirement, a reason."""

    check: str
    reason: str
    requirement: str | None = None
    #: 1-based position in the file, for messages.
    number: int = 0

    def selects(self, check: CheckResult) -> bool:
        if not fnmatch.fnmatchcase(check.id, self.check):
            return False
        return self.requirement is None or self.requirement in check.all_requirement_ids()

    def status_of(self, check: CheckResult) -> Status:
        """What the selected check says about what this entry expects to fail."""
        status = None if self.requirement is None else check.status_for(self.requirement)
        return check.status if status is None else status  # (PASS is falsy: compare to None)

    def describe(self) -> str:
        scope = f", requirement {self.requirement}" if self.requirement else ""
        return f"entry {self.number} (check {self.check!r}{scope})"


@dataclass(frozen=True)
class ExpectedFailures:
    source: str
    entries: tuple[ExpectedFailure, ...] = ()


@dataclass(frozen=True)
class GateProblem:
    """An entry that no longer earns its place in the file."""

    entry: ExpectedFailure
    kind: Literal["now-passes", "stale"]
    message: str

    def __str__(self) -> str:
        return self.message


_FAILED = (Status.WARN, Status.FAIL, Status.ERROR, Status.XFAIL)


def load_expected_failures(path: Path) -> ExpectedFailures:
    """Read and validate an expected-failures YAML file; ConfigError names the file and reason."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the expected-failures file: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the expected-failures file is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: {where}invalid YAML: {one_line(str(problem))}") from None
    if data is None:
        raise ConfigError(f"{path}: the expected-failures file is empty")
    schema = json.loads(schema_path("expected-failures").read_text(encoding="utf-8"))
    # JSON round trip: YAML dates and the like become strings the schema can judge.
    data = json.loads(json.dumps(data, default=str))
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(data)
    )
    if error is not None:
        where = _json_path(error.absolute_path)
        raise ConfigError(f"{path}: {where}: {_schema_message(error)}")
    entries = tuple(
        ExpectedFailure(
            check=raw["check"],
            reason=raw["reason"].strip(),
            requirement=raw.get("requirement"),
            number=number,
        )
        for number, raw in enumerate(data["expected_failures"], start=1)
    )
    return ExpectedFailures(source=str(path), entries=entries)


def _json_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "top level"


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "pattern" and error.schema.get("pattern") == "\\S":
        return "must not be empty"
    if error.validator == "const":
        return f"must be {error.validator_value!r}, not {one_line(repr(error.instance), 60)}"
    return one_line(error.message)


def apply_expected_failures(result: RunResult, expected: ExpectedFailures) -> list[GateProblem]:
    """Turn expected failures into ``xfail``; return (and record in the result) the problems."""
    for check in result.checks:
        if check.status in (Status.WARN, Status.FAIL, Status.ERROR):
            _maybe_xfail(check, [e for e in expected.entries if e.selects(check)])
    problems: list[GateProblem] = []
    for entry in expected.entries:
        selected = [check for check in result.checks if entry.selects(check)]
        if not selected:
            problems.append(
                GateProblem(
                    entry,
                    "stale",
                    f"{expected.source}: {entry.describe()} matches nothing: stale entry",
                )
            )
        for check in selected:
            if entry.status_of(check) is Status.PASS:
                problems.append(
                    GateProblem(
                        entry,
                        "now-passes",
                        f"{expected.source}: {entry.describe()}: expected failure now passes: "
                        f"remove it (check {check.id} passed)",
                    )
                )
    result.gate_problems = [str(problem) for problem in problems]
    return problems


def _maybe_xfail(check: CheckResult, entries: list[ExpectedFailure]) -> None:
    matching = [e for e in entries if e.status_of(check) in _FAILED]
    if not matching:
        return
    failed = check.failed_assertions
    blanket = any(e.requirement is None for e in matching)
    if check.status in (Status.WARN, Status.FAIL) and failed and not blanket:
        # Scoped entries excuse only their requirements; any other failure still counts.
        excused = {e.requirement for e in matching}
        if any(not a.requirement_ids or not set(a.requirement_ids) <= excused for a in failed):
            return
    check.status = Status.XFAIL
    check.expected_failure = "; ".join(dict.fromkeys(e.reason for e in matching))


_GLOB_SPECIAL = re.compile(r"([*?\[])")


def suggest_entry(check: CheckResult) -> str:
    """A ready-to-paste entry (indented for the ``expected_failures:`` list) for a new failure."""
    pattern = _GLOB_SPECIAL.sub(r"[\1]", check.id)
    hint = f"TODO: why this failure is acceptable for now ({reason(check)})"
    failed = check.failed_assertions
    requirements = list(dict.fromkeys(r for a in failed for r in a.requirement_ids))
    if (
        check.status not in (Status.WARN, Status.FAIL)
        or not failed
        or any(not a.requirement_ids for a in failed)
    ):
        requirements = []
    entries: list[dict[str, str]] = [
        {"check": pattern, "requirement": requirement, "reason": hint}
        for requirement in requirements
    ] or [{"check": pattern, "reason": hint}]
    text = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=1000)
    return "".join(f"  {line}\n" for line in text.splitlines())
