"""Every report states each MUST left unverified, why, and what would verify it."""

from __future__ import annotations

import json

from report_samples import make_check, make_run, ok

from conformance._results import RunResult
from conformance.report import render_html, render_json, render_markdown


def _run() -> RunResult:
    skipped = make_check("cancel-held", reqs=("JR-CANCEL-002",), area="cancel")
    skipped.skip("needs capability reference-controls", needs=("reference-controls",))
    fine = make_check("create-ok", ok("JR-CREATE-001", "JR-CREATE-002"), reqs=("JR-CREATE-001",))
    # JR-CANCEL-001 and JR-DELETE-001: no check at all.
    return make_run([fine, skipped])


def test_the_result_model_says_why_and_what_would_verify() -> None:
    unverified = {u.requirement.id: u for u in _run().unverified("MUST")}
    assert set(unverified) == {"JR-CANCEL-001", "JR-CANCEL-002", "JR-DELETE-001"}
    held = unverified["JR-CANCEL-002"]
    assert held.reasons == ["cancel-held: needs capability reference-controls"]
    assert held.would_verify == ["reference-controls"] and held.out_of_reach
    assert unverified["JR-DELETE-001"].reasons == ["no selected check covers it"]
    assert not unverified["JR-DELETE-001"].out_of_reach
    assert [u.requirement.id for u in _run().unverifiable("MUST")] == ["JR-CANCEL-002"]


def test_results_json_lists_them() -> None:
    data = json.loads(render_json(_run()))
    listed = {item["id"]: item for item in data["unverified_must"]}
    assert listed["JR-CANCEL-002"]["would_verify"] == ["reference-controls"]
    skipped = next(c for c in data["checks"] if c["id"] == "cancel-held")
    assert skipped["needs"] == ["reference-controls"]
    assert RunResult.from_dict(data).checks[1].needs == ("reference-controls",)


def test_markdown_and_html_list_them() -> None:
    markdown = render_markdown(_run())
    assert "### MUST left unverified (3)" in markdown
    assert "| JR-CANCEL-002 | cancel-held: needs capability reference-controls | " in markdown
    html = render_html(_run())
    assert 'id="unverified"' in html and "reference-controls" in html
