"""``results.json``: the whole :class:`RunResult`, plus the roll-ups the other formats show.

``RunResult.from_dict`` reads it back (the extra sections are derived, so it ignores them);
``conformance/schemas/results.schema.json`` describes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from .._exceptions import UsageError
from .._resources import schema_path
from .._results import SCHEMA_VERSION, RunResult, Score
from ._evidence import one_line
from ._summary import Summary, summarise


def _score(score: Score) -> dict[str, Any]:
    return {"passed": score.passed, "total": score.total, "percent": round(score.percent, 2)}


def _label(status: Any) -> str | None:
    return None if status is None else str(status.label)


def report_dict(result: RunResult, summary: Summary | None = None) -> dict[str, Any]:
    summary = summary or summarise(result)
    data = result.to_dict()
    # The model's scores ({passed, total}) with the percentage every other format prints.
    data["scores"] = {level: _score(score) for level, score in summary.scores.items()}
    data["requirement_outcomes"] = [
        {
            "id": o.requirement.id,
            "level": o.requirement.level,
            "area": o.requirement.area,
            "testable": o.requirement.testable,
            "status": _label(o.status),
            "checks": o.check_ids,
        }
        for o in summary.outcomes
    ]
    data["areas"] = {
        area.area: {
            "status": _label(area.status),
            "scores": {level: _score(score) for level, score in area.scores.items()},
        }
        for area in summary.areas
    }
    data["coverage"] = {
        "operations": {
            op.operation: {
                "requirements": op.requirement_ids,
                "covered": op.covered_ids,
                "checks": op.check_ids,
                "status": _label(op.status),
            }
            for op in summary.operations
        },
        "requirements": {o.requirement.id: o.check_ids for o in summary.outcomes},
        "uncovered_must": [r.id for r in summary.uncovered_must],
    }
    data["verdict"] = summary.verdict.label
    return data


def render_json(result: RunResult, summary: Summary | None = None) -> str:
    # default=str: an assertion's expected/actual may hold a value JSON has no type for.
    return json.dumps(report_dict(result, summary), indent=2, ensure_ascii=False, default=str)


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path("results").read_text(encoding="utf-8"))
    return schema


def validate_report(data: Any) -> None:
    """Raise ``jsonschema.ValidationError`` if ``data`` is not a results.json document."""
    jsonschema.Draft202012Validator(_schema()).validate(data)


def load_result(path: Path) -> RunResult:
    """Read a ``results.json``; a missing, unreadable or invalid file is one-line UsageError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a results.json file: not UTF-8 text") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not a results.json file: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a results.json file: the top level is not an object")
    version = str(data.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise UsageError(
            f"{path}: results.json schema_version {version or '(missing)'!s} is not supported "
            f"(this tool reads {SCHEMA_VERSION})"
        )
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(_schema()).iter_errors(data)
    )
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise UsageError(f"{path}: not a valid results.json: at {where}: {one_line(error.message)}")
    try:
        return RunResult.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:  # the schema should have caught it first
        raise UsageError(f"{path}: not a valid results.json: {exc}") from None
