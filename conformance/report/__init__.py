"""Reports rendered from a :class:`~conformance.RunResult`; expected failures; run-to-run diffs.

Every format is rendered from the same result and the same roll-ups, so they cannot disagree.
"""

from ._diff import ResultDiff, diff_results
from ._expected import (
    ExpectedFailure,
    ExpectedFailures,
    GateProblem,
    apply_expected_failures,
    load_expected_failures,
    suggest_entry,
)
from ._html import render_html
from ._json import load_result, render_json
from ._junit import render_junit
from ._markdown import render_markdown
from ._matrix import write_matrix
from ._write import FORMATS, write_reports

__all__ = [
    "FORMATS",
    "ExpectedFailure",
    "ExpectedFailures",
    "GateProblem",
    "ResultDiff",
    "apply_expected_failures",
    "diff_results",
    "load_expected_failures",
    "load_result",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "suggest_entry",
    "write_matrix",
    "write_reports",
]
