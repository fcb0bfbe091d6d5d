"""``summary.md``: a short summary for CI step summaries (``$GITHUB_STEP_SUMMARY``).

GitHub renders some HTML inside Markdown, so every piece of text from the run is escaped, and
the failure list is bounded to stay far below the step-summary size limit.
"""

from __future__ import annotations

from .._results import RunResult
from ._evidence import blamed_requirements, one_line, reason
from ._summary import LEVELS, Summary, score_text, summarise

#: At most this many failures are listed; the rest are counted.
MAX_LISTED = 50

_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "`": "'",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
    }
)


def _md(text: str, limit: int = 200) -> str:
    """Run text on one line, inert in Markdown and in the HTML GitHub allows inside it."""
    return one_line(text, limit).translate(_ESCAPES)


def _stages(result: RunResult) -> list[str]:
    """Where the time and the requests went, and the request budget the run kept to."""
    if not result.stages:
        return []
    budget = result.settings.get("rate_limit_per_min")
    lines = [
        "| Stage | Wall time | Requests | Retries | Journal runs created |",
        "|---|---:|---:|---:|---:|",
    ]
    for stage in result.stages:
        name = _md(stage.name) + (f" (within {_md(stage.within)})" if stage.within else "")
        lines.append(
            f"| {name} | {stage.wall_s:.2f} s | {stage.requests} | {stage.retries} "
            f"| {stage.runs_created} |"
        )
    lines.append(
        f"| total | {result.wall_s():.2f} s | {result.requests_sent()} | {result.retries()} "
        f"| {result.runs_created()} |"
    )
    if budget:
        lines += ["", f"Paced to at most {budget:g} requests a minute (--rate-limit)."]
    return [*lines, ""]


def render_markdown(result: RunResult, summary: Summary | None = None) -> str:
    summary = summary or summarise(result)
    counts = ", ".join(f"{n} {label}" for label, n in summary.counts.items() if n)
    lines = [
        f"## Journal Runs conformance: {summary.verdict.name}",
        "",
        f"Target {_md(result.target.base_url)} ({_md(result.target.implementation)}), "
        f"run {_md(result.run_id)}, started {_md(result.started_at)}; "
        f"{len(result.checks)} checks{': ' + counts if counts else ''}; "
        f"exit code {summary.exit_code}.",
        "",
    ]
    if result.setup_error:
        lines += [f"**Setup error:** {_md(result.setup_error, 500)}", ""]
    lines += ["| Level | Score |", "|---|---|"]
    lines += [f"| {level} | {score_text(summary.scores[level])} |" for level in LEVELS]
    if summary.areas:
        lines += ["", "| Area | Status | " + " | ".join(LEVELS) + " |", "|---|---|---|---|---|"]
    for area in summary.areas:
        scores = " | ".join(score_text(area.scores[level]) for level in LEVELS)
        lines.append(f"| {_md(area.area)} | {area.label} | {scores} |")
    lines.append("")
    lines += _stages(result)

    if summary.failures:
        lines += [f"### Failures ({len(summary.failures)})", ""]
        for check in summary.failures[:MAX_LISTED]:
            ids = ", ".join(blamed_requirements(check)) or "no requirement"
            lines.append(
                f"- **{check.status.label}** {_md(check.id)} ({_md(ids)}): {_md(reason(check))}"
            )
        if len(summary.failures) > MAX_LISTED:
            lines.append(f"- … and {len(summary.failures) - MAX_LISTED} more (see report.html)")
        lines.append("")
    if summary.warnings:
        gate = "they fail this strict run" if result.strict else "they do not fail the run"
        lines += [f"### Warnings ({len(summary.warnings)}): SHOULD or MAY not met; {gate}", ""]
        for check in summary.warnings[:MAX_LISTED]:
            ids = ", ".join(blamed_requirements(check)) or "no requirement"
            lines.append(f"- {_md(check.id)} ({_md(ids)}): {_md(reason(check))}")
        if len(summary.warnings) > MAX_LISTED:
            lines.append(f"- … and {len(summary.warnings) - MAX_LISTED} more (see report.html)")
        lines.append("")
    if summary.xfails:
        lines += [f"### Expected failures ({len(summary.xfails)})", ""]
        for check in summary.xfails[:MAX_LISTED]:
            lines.append(f"- {_md(check.id)}: {_md(check.expected_failure or '')}")
        if len(summary.xfails) > MAX_LISTED:
            lines.append(f"- … and {len(summary.xfails) - MAX_LISTED} more")
        lines.append("")
    if result.gate_problems:
        lines += ["### Expected-failures file problems", ""]
        lines += [f"- {_md(problem, 300)}" for problem in result.gate_problems]
        lines.append("")
    if summary.unverified_must:
        count = len(summary.unverified_must)
        lines += [f"### MUST left unverified ({count})", ""]
        lines += ["| requirement | why | what would verify it |", "|---|---|---|"]
        for unverified in summary.unverified_must:
            why = "; ".join(unverified.reasons)
            would = ", ".join(unverified.would_verify) or "selecting a check that covers it"
            rid = unverified.requirement.id
            lines.append(f"| {_md(rid)} | {_md(why, 300)} | {_md(would)} |")
        lines.append("")
    if result.left_behind:
        count = len(result.left_behind)
        lines += [
            f"**Left behind:** {count} resource(s) the run created and could not clean up",
            "",
        ]
        for item in result.left_behind[:MAX_LISTED]:
            lines.append(
                f"- {_md(item.kind)} {_md(item.number)} ({_md(item.status)}): {_md(item.reason)}"
            )
        if count > MAX_LISTED:
            lines.append(f"- … and {count - MAX_LISTED} more (see report.html)")
        lines.append("")
    return "\n".join(lines)
