"""``badge.json``: a shields.io endpoint file, so a README can show the run's MUST score.

Serve the file anywhere shields.io can read it and use
``https://img.shields.io/endpoint?url=<where badge.json is>``; see
https://shields.io/badges/endpoint-badge for the format.
"""

from __future__ import annotations

import json
from typing import Any

from .._results import RunResult, Status
from ._summary import Summary, summarise

#: The run's verdict -> the badge's colour.
COLOURS = {
    Status.PASS: "brightgreen",
    Status.SKIP: "brightgreen",
    Status.XFAIL: "green",
    Status.WARN: "yellow",
    Status.FAIL: "red",
    Status.ERROR: "red",  # a check reached no verdict: the run fails (exit 1) all the same
}
#: When the target could not be tested at all.
SETUP_ERROR_COLOUR = "lightgrey"


def badge_dict(result: RunResult, summary: Summary | None = None) -> dict[str, Any]:
    summary = summary or summarise(result)
    must = summary.scores["MUST"]
    if result.setup_error:
        message = "setup error"
    elif result.interrupted:
        message = f"MUST {must.passed}/{must.total} (interrupted)"
    else:
        message = f"MUST {must.passed}/{must.total}"
    return {
        "schemaVersion": 1,
        "label": "conformance",
        "message": message,
        "color": SETUP_ERROR_COLOUR if result.setup_error else COLOURS[summary.verdict],
    }


def render_badge(result: RunResult, summary: Summary | None = None) -> str:
    return json.dumps(badge_dict(result, summary), indent=2) + "\n"
