"""``report.html``: one offline file for people, rendered from one Jinja2 template.

Evidence is hostile input, so autoescaping is on and a Content-Security-Policy allows only the
report's own script (by hash): even a slip in escaping could not run a server's ``<script>``.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources

import jinja2

from .._results import RunResult, Status
from ._evidence import blamed_requirements, judged_exchanges, reason, show_value, truncate
from ._summary import LEVELS, Summary, score_text, status_label, summarise

#: Bodies and values beyond this are cut in the page; results.json has the evidence as recorded.
MAX_CHARS = 16 * 1024


def _template_text(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_text),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        score=score_text,
        status=status_label,
        value=lambda value: truncate(show_value(value), MAX_CHARS),
        cut=lambda text: truncate(text or "", MAX_CHARS),
        reason=reason,
    )
    return environment


def render_html(result: RunResult, summary: Summary | None = None) -> str:
    summary = summary or summarise(result)
    script = _template_text("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    template = _environment().get_template("report.html.j2")
    return template.render(
        result=result,
        summary=summary,
        levels=LEVELS,
        Status=Status,
        anchors={check.id: f"check-{n}" for n, check in enumerate(result.checks)},
        judged=judged_exchanges,
        blamed=blamed_requirements,
        script=script,
        script_hash=f"sha256-{digest}",
    )
