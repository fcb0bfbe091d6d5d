"""``jr-conformance matrix``: several implementations side by side, from their results.json files.

Requirements down, implementations across; each cell is the requirement's status in that run and
links to its evidence, the ``report.html`` next to that ``results.json`` (anchored at the
requirement's row, ``#req-<ID>``, in reports that have the anchors). Under the table, each
implementation's MUST, SHOULD and MAY scores. Only results files are read: nothing is run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from .._catalogue import Requirement
from .._exceptions import UsageError
from .._results import RunResult, Score
from ._json import load_result
from ._markdown import _md
from ._summary import LEVELS, score_text, status_label, summarise
from ._write import _write_atomically

#: Where the matrix goes unless ``--out`` says otherwise.
DEFAULT_OUT = Path("reports/matrix")
#: The label of a requirement an implementation's catalogue does not have (an older run).
ABSENT = "absent"


@dataclass
class Implementation:
    name: str
    path: Path
    result: RunResult
    #: Requirement ID -> status label (``pass``, ``fail``, ``not covered``, ...).
    labels: dict[str, str]
    scores: dict[str, Score]
    #: The report.html next to the results file, relative to the output folder; None if absent.
    report: str | None


@dataclass
class Matrix:
    implementations: list[Implementation]
    requirements: list[Requirement]

    def label(self, implementation: Implementation, requirement_id: str) -> str:
        return implementation.labels.get(requirement_id, ABSENT)

    def link(self, implementation: Implementation, requirement_id: str) -> str | None:
        if implementation.report is None:
            return None
        return f"{implementation.report}#req-{quote(requirement_id)}"


def default_name(result: RunResult) -> str:
    """The implementation's name from its target: ``reference``, or the base URL's host."""
    if result.target.implementation == "reference":
        return "reference"
    parts = urlsplit(result.target.base_url)
    return (parts.netloc + parts.path.rstrip("/")) or result.target.base_url or result.run_id


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return unique


def build_matrix(
    paths: Sequence[Path], names: Sequence[str] = (), out_dir: Path = DEFAULT_OUT
) -> Matrix:
    """Load every results file (a bad one is a one-line UsageError) and line them up."""
    if not paths:
        raise UsageError("matrix: give at least one results.json")
    if names and len(names) != len(paths):
        raise UsageError(
            f"matrix: {len(names)} --name for {len(paths)} results files (give one per file, "
            "in the same order, or none)"
        )
    results = [load_result(Path(path)) for path in paths]
    chosen = _unique(list(names) or [default_name(result) for result in results])
    implementations = []
    requirements: dict[str, Requirement] = {}
    for name, path, result in zip(chosen, paths, results, strict=True):
        summary = summarise(result)
        labels = {o.requirement.id: status_label(o.status, o.requirement) for o in summary.outcomes}
        for outcome in summary.outcomes:
            requirements.setdefault(outcome.requirement.id, outcome.requirement)
        report = Path(path).parent / "report.html"
        link = None
        if report.is_file():
            relative = os.path.relpath(report.resolve(), Path(out_dir).resolve())
            link = quote(Path(relative).as_posix())
        implementations.append(
            Implementation(name, Path(path), result, labels, summary.scores, link)
        )
    return Matrix(implementations, list(requirements.values()))


def render_matrix_markdown(matrix: Matrix) -> str:
    names = [_md(i.name, 60) for i in matrix.implementations]
    lines = [
        "## Journal Runs conformance matrix",
        "",
        "| Requirement | Level | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for requirement in matrix.requirements:
        cells = []
        for implementation in matrix.implementations:
            label = matrix.label(implementation, requirement.id)
            link = matrix.link(implementation, requirement.id)
            cells.append(f"[{label}]({link})" if link and label != ABSENT else label)
        lines.append(f"| {_md(requirement.id)} | {requirement.level} | " + " | ".join(cells) + " |")
    lines += ["", "| Score | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for level in LEVELS:
        scores = [score_text(i.scores[level]) for i in matrix.implementations]
        lines.append(f"| {level} | " + " | ".join(scores) + " |")
    lines.append("")
    for implementation in matrix.implementations:
        result = implementation.result
        lines.append(
            f"- {_md(implementation.name, 60)}: {_md(result.target.base_url, 200)}, "
            f"run {_md(result.run_id, 60)} at {_md(result.started_at, 40)}, "
            f"verdict {result.verdict.label} (jr-conformance {_md(result.tool_version, 20)})"
        )
    return "\n".join(lines) + "\n"


def render_matrix_html(matrix: Matrix) -> str:
    from ._html import _environment

    template = _environment().get_template("matrix.html.j2")
    return template.render(matrix=matrix, levels=LEVELS, absent=ABSENT)


def write_matrix(
    paths: Sequence[Path], names: Sequence[str] = (), out_dir: Path = DEFAULT_OUT
) -> dict[str, Path]:
    """Build the matrix and write ``matrix.html`` and ``matrix.md`` into ``out_dir``."""
    out_dir = Path(out_dir)
    matrix = build_matrix(paths, names, out_dir)
    written = {"html": out_dir / "matrix.html", "markdown": out_dir / "matrix.md"}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(written["html"], render_matrix_html(matrix))
        _write_atomically(written["markdown"], render_matrix_markdown(matrix))
    except OSError as exc:
        raise UsageError(f"cannot write the matrix to {out_dir}: {exc.strerror or exc}") from None
    return written
