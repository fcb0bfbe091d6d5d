"""summary.md: the verdict, the scores, the failures; run text made inert."""

from __future__ import annotations

from report_samples import make_check, make_run

from conformance import RunResult
from conformance.report import render_markdown
from conformance.report._markdown import MAX_LISTED


def test_verdict_scores_and_failures(mixed_run: RunResult) -> None:
    text = render_markdown(mixed_run)
    assert text.startswith("## Journal Runs conformance: ERROR\n")
    assert f"exit code {mixed_run.exit_code}." in text  # read from the result, not decided again
    assert "| MUST | 2/5 (40.0%) |" in text
    assert "| SHOULD | 1/1 (100.0%) |" in text
    assert "| MAY | 0/1 (0.0%) |" in text
    assert "| cancel | error | 2/2 (100.0%) | n/a | 0/1 (0.0%) |" in text
    assert "| auth | not testable | n/a | n/a | n/a |" in text
    # Only the requirement that failed is blamed, with a one-line reason.
    assert "- **fail** create-huge (JR-CREATE-002): expected 201, got 500" in text
    assert "- **error** cancel-error (JR-CANCEL-003): transport: timed out after 30 s" in text


def test_run_text_is_inert(mixed_run: RunResult) -> None:
    mixed_run.checks[1].message = "a | b\nline two `code` [link](http://evil)"
    text = render_markdown(mixed_run)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "a \\| b line two 'code' \\[link](http://evil)" in text


def test_a_passing_run_lists_no_failures(pass_run: RunResult) -> None:
    text = render_markdown(pass_run)
    assert text.startswith("## Journal Runs conformance: PASS\n")
    assert "| MUST | 5/5 (100.0%) |" in text
    assert "Failures" not in text


def test_the_stages_with_their_time_and_requests(pass_run: RunResult) -> None:
    text = render_markdown(pass_run)
    assert "| scenarios | 12.25 s | 40 |" in text
    assert "| total | 42.75 s | 243 |" in text
    assert "Paced" not in text
    pass_run.settings["rate_limit_per_min"] = 300.0
    assert "Paced to at most 300 requests a minute" in render_markdown(pass_run)


def test_the_failure_list_is_bounded() -> None:
    checks = [make_check(f"c{n}", reqs=("JR-CREATE-001",)) for n in range(MAX_LISTED + 7)]
    text = render_markdown(make_run(checks))
    assert f"### Failures ({MAX_LISTED + 7})" in text
    assert "- … and 7 more (see report.html)" in text


def test_setup_error_and_gate_problems(empty_run: RunResult) -> None:
    empty_run.gate_problems = ["f.yaml: entry 2 (check 'x*'): expected failure now passes"]
    text = render_markdown(empty_run)
    assert "**Setup error:** connection refused" in text
    assert "### Expected-failures file problems" in text
    assert "| MUST | n/a |" in text
