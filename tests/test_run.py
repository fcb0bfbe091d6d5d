"""`jr-conformance run` end to end: reports, exit codes, selection, expected failures, coverage."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance import Status
from conformance._catalogue import load_catalogue
from conformance._config import load_config
from conformance._plan import make_plan
from conformance._resources import schema_path
from conformance._results import RunResult
from conformance._run import run
from conformance.cli import main
from conformance.fuzz import fuzz_checks
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.report._har import har_dict
from conformance.report._markdown import render_markdown
from conformance.scenarios import load_scenarios

TOKEN = "run-test-token-0123456789"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JR_BASE_URL", "JR_TOKEN", "JR_CLIENT_ID", "JR_CLIENT_SECRET", "JR_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[ReferenceServer]:
    settings = ReferenceSettings(tokens=(TOKEN,), faults=frozenset({"delete-completed"}))
    with ReferenceServer(settings) as server:
        yield server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_against_the_embedded_reference_writes_four_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--select", "cancel", "--reports", str(tmp_path), "--max-examples", "2", "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert {p.name for p in tmp_path.iterdir()} >= {
        "results.json",
        "junit.xml",
        "report.html",
        "summary.md",
    }
    data = json.loads((tmp_path / "results.json").read_text())
    schema = json.loads(schema_path("results").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["status"] == "pass"
    assert data["target"]["implementation"] == "reference"
    assert any(c["id"] == "partial-cancel-jr-00000075" for c in data["checks"])
    assert "PASS: MUST" in out
    # The partial cancel leaves a run with a transferred entry: the scenario's hand-back gave up
    # on it for a reason no retry changes, so the final cleanup sends nothing, and the summary
    # names each left-behind item once (the fuzzer, which may transfer entries on the
    # reference, can leave such runs too).
    stages = {stage["name"]: stage for stage in data["stages"]}
    assert stages["cleanup"]["requests"] == 0
    # What the run cost the tenant: every cancel scenario creates its own run.
    created = sum(stage["runs_created"] for stage in data["stages"])
    assert stages["scenarios"]["runs_created"] >= 5 and stages["cleanup"]["runs_created"] == 0
    assert f"{created} journal runs created" in out
    assert "| Journal runs created |" in (tmp_path / "summary.md").read_text()
    left = [line for line in out.splitlines() if line.startswith("left behind: ")]
    assert len(left) == len(data["left_behind"])
    assert any("is transferred to accounting" in line for line in left)


def test_an_unreachable_target_is_a_setup_error_with_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    code = main(["run", "--base-url", url, "--reports", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 3
    assert "setup error: cannot reach the target" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["setup_error"].startswith("cannot reach the target")
    assert data["status"] == "error"


def test_bad_credentials_are_a_setup_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    faulty_server: ReferenceServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JR_TOKEN", "not-the-token")
    code = main(["run", "--base-url", faulty_server.url, "--reports", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 3
    assert "refused the credentials" in out
    assert "not-the-token" not in out
    assert "not-the-token" not in (tmp_path / "results.json").read_text()


def test_a_selection_that_names_nothing_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--select", "no-such-thing", "--reports", str(tmp_path)])
    assert code == 2
    assert "names no scenario or fuzz check" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()


def test_a_fault_is_non_conformance_and_the_html_shows_its_evidence(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    faulty_server: ReferenceServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    code = main(
        [
            "run",
            "--base-url",
            faulty_server.url,
            "--select",
            "delete-*",  # the scenarios: deterministic on a shared tenant
            "--reports",
            str(tmp_path),
            "--max-examples",
            "2",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    data = json.loads((tmp_path / "results.json").read_text())
    failing = [c for c in data["checks"] if c["status"] == "fail"]
    assert failing
    assert any(
        "JR-DELETE-002" in a["requirement_ids"] and not a["passed"]
        for c in failing
        for a in c["assertions"]
    )
    html = (tmp_path / "report.html").read_text()
    assert "JR-DELETE-002" in html
    assert "DELETE" in html and "/v1/journal-runs/JR-" in html  # the exchange as evidence
    assert TOKEN not in html and TOKEN not in out

    # The same failure, declared as expected, passes the gate; a stale entry fails it.
    failed_id = failing[0]["id"]
    expected = tmp_path / "expected.yaml"
    expected.write_text(
        "version: 1\nexpected_failures:\n"
        f"  - check: {json.dumps(failed_id)}\n    reason: known, tracked in #1\n"
        + "".join(f"  - check: {json.dumps(c['id'])}\n    reason: known\n" for c in failing[1:])
    )
    code = main(
        [
            "run",
            "--base-url",
            faulty_server.url,
            "--select",
            "delete-*",
            "--reports",
            str(tmp_path / "xf"),
            "--max-examples",
            "2",
            "--quiet",
            "--expected-failures",
            str(expected),
        ]
    )
    assert code == 0, capsys.readouterr().out
    with expected.open("a") as handle:
        handle.write("  - check: no-such-check\n    reason: stale\n")
    code = main(
        [
            "run",
            "--base-url",
            faulty_server.url,
            "--select",
            "delete-*",
            "--reports",
            str(tmp_path / "stale"),
            "--max-examples",
            "2",
            "--quiet",
            "--expected-failures",
            str(expected),
        ]
    )
    assert code == 1
    assert "matches nothing" in capsys.readouterr().out


def test_run_api_against_a_fault_names_the_requirement() -> None:
    config = load_config({"select": ["delete"], "max_examples": 2}, env={})
    result = run(config, reference=ReferenceSettings(faults=frozenset({"delete-completed"})))
    assert result.status is Status.FAIL
    outcomes = {o.requirement.id: o.status for o in result.outcomes()}
    assert outcomes["JR-DELETE-002"] is Status.FAIL


def test_list_is_a_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--select", "JR-CANCEL-*"]) == 0
    out = capsys.readouterr().out
    assert "scenario  partial-cancel-jr-00000075" in out
    assert "fuzz      fuzz.cancel-rule" in out


def test_list_says_which_fixture_a_scenario_uses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--select", "entries-of-a-run"]) == 0
    out = capsys.readouterr().out
    assert "[needs journal-entries] [uses fixture completed-run]" in out


def test_every_testable_must_is_covered_by_a_scenario_or_a_fuzz_check() -> None:
    catalogue = load_catalogue()
    named: set[str] = set()
    for scenario in load_scenarios(None, catalogue=catalogue):
        named.update(scenario.all_requirement_ids())
    for check in fuzz_checks():
        named.update(check.requirement_ids)
    missing = [r.id for r in catalogue.by_level("MUST") if r.testable and r.id not in named]
    assert not missing, f"MUST requirements no check verifies: {missing}"


def test_plan_selects_by_area_tag_and_requirement() -> None:
    catalogue = load_catalogue()
    plan = make_plan(load_config({"select": ["JR-CANCEL-006"]}, env={}), catalogue)
    assert [s.id for s in plan.scenarios] and all(
        "JR-CANCEL-006" in s.all_requirement_ids() for s in plan.scenarios
    )
    plan = make_plan(load_config({"select": ["fuzz"]}, env={}), catalogue)
    assert not plan.scenarios and plan.fuzz_checks


def test_a_should_failure_warns_and_fails_only_a_strict_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = ReferenceSettings(tokens=(TOKEN,), faults=frozenset({"rate-limit-headers-missing"}))
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    with ReferenceServer(settings) as server:
        args = ["run", "--base-url", server.url, "--select", "rate-limit-headers-should"]
        code = main([*args, "--quiet", "--reports", str(tmp_path / "lenient")])
        out = capsys.readouterr().out
        assert code == 0, out
        assert out.startswith("WARN: ") and "1 warning(s)" in out
        data = json.loads((tmp_path / "lenient" / "results.json").read_text())
        assert (data["verdict"], data["exit_code"], data["counts"]["warn"]) == ("warn", 0, 1)
        outcomes = {o["id"]: o["status"] for o in data["requirement_outcomes"]}
        assert outcomes["JR-HEADERS-008"] == "warn"
        summary = (tmp_path / "lenient" / "summary.md").read_text()
        assert "### Warnings (1)" in summary and "JR-HEADERS-008" in summary
        junit = (tmp_path / "lenient" / "junit.xml").read_text()
        assert 'failures="0"' in junit and 'value="warn"' in junit

        code = main([*args, "--quiet", "--strict", "--reports", str(tmp_path / "strict")])
        assert code == 1
        data = json.loads((tmp_path / "strict" / "results.json").read_text())
        assert (data["status"], data["verdict"], data["strict"]) == ("warn", "fail", True)
        assert 'type="warning"' in (tmp_path / "strict" / "junit.xml").read_text()

        monkeypatch.setenv("JR_STRICT", "true")  # the environment asks for it too
        code = main([*args, "--quiet", "--reports", str(tmp_path / "env")])
        assert code == 1


def test_run_applies_the_expected_failures_itself(tmp_path: Path) -> None:
    """Any caller of run() gets the gate, not only the CLI."""
    expected = tmp_path / "known.yaml"
    expected.write_text(
        "version: 1\nexpected_failures:\n"
        "  - check: delete-after-cancel\n    requirement: JR-DELETE-002\n"
        "    reason: tracked as JR-12\n"
    )
    config = load_config(
        {"select": ["delete-after-cancel"], "expected_failures": str(expected)}, env={}
    )
    result = run(config, reference=ReferenceSettings(faults=frozenset({"delete-completed"})))
    (check,) = [c for c in result.checks if c.id == "delete-after-cancel"]
    assert check.status is Status.XFAIL and check.expected_failure == "tracked as JR-12"
    assert (result.gate_problems, result.exit_code) == ([], 0)

    clean = run(config)  # the same file against a conforming server: the entry now passes
    assert clean.exit_code == 1
    assert any("now passes" in problem for problem in clean.gate_problems)


def test_the_embedded_reference_tells_the_suite_its_earliest_date() -> None:
    """Out of the box, the earliest-date boundary is checked (not skipped) on the reference."""
    config = load_config({"select": ["create-earliest-date-*"]}, env={})
    result = run(config)
    statuses = {c.id: c.status for c in result.checks if c.kind == "scenario"}
    assert statuses == {
        "create-earliest-date-accepted": Status.PASS,
        "create-earliest-date-day-before": Status.PASS,
    }
    told = load_config(
        {"select": ["create-earliest-date-*"], "earliest_date": "2014-06-01"}, env={}
    )
    result = run(told)  # what the user says wins: the reference refuses from 2015 on, so it fails
    assert result.status is Status.FAIL


@pytest.mark.parametrize("external", [False, True], ids=["embedded-reference", "shared-tenant"])
def test_the_scenarios_run_inside_the_fuzz_stage(tmp_path: Path, external: bool) -> None:
    """On an external target the scenarios run inside the fuzz stage once its creates are done
    and followed through; against the embedded reference from its start, on tenants of their
    own. Either way the scenarios stage is marked within fuzz, each stage's requests and runs
    are its own, and the total wall time counts the overlap once."""
    select = ["create-with-period", "not-found-runs", "fuzz.number-format"]
    if external:
        result = _on_a_slow_tenant(tmp_path, *select, max_examples=2)
    else:
        flags = {"select": select, "max_examples": 2, "reports_dir": str(tmp_path)}
        result = run(load_config({**flags, "progress": "quiet"}, env={}))
    assert result.status is Status.PASS, [(c.id, c.status, c.message) for c in result.checks]
    stages = {stage.name: stage for stage in result.stages}
    assert [s.name for s in result.stages] == ["preflight", "scenarios", "fuzz", "cleanup"]
    assert stages["scenarios"].within == "fuzz" and not stages["fuzz"].within
    assert stages["scenarios"].runs_created == 1  # create-with-period's, not the fuzzer's
    assert stages["fuzz"].runs_created >= 1 and stages["fuzz"].requests > 0
    assert result.wall_s() == pytest.approx(
        sum(s.wall_s for s in result.stages if s.name != "scenarios")
    )
    assert [c.id for c in result.checks if c.kind == "scenario"] == [
        "create-with-period",
        "not-found-runs",
    ]
    summary = render_markdown(result)
    assert "| scenarios (within fuzz) |" in summary
    assert f"| total | {result.wall_s():.2f} s |" in summary


def test_on_a_shared_tenant_a_scenario_hands_back_settled_runs_and_the_cleanup_stage_removes_them(
    tmp_path: Path,
) -> None:
    """The next scenario needs no run executing, not a clean tenant: each creating scenario
    hands the tenant back once its run has settled (the next one's create is accepted), and the
    cleanup stage cancels and deletes them all."""
    result = _on_a_slow_tenant(tmp_path, "create-with-period", "create-unknown-field-ignored")
    assert result.status is Status.PASS, [(c.id, c.status, c.message) for c in result.checks]
    assert result.left_behind == []
    stages = {stage.name: stage for stage in result.stages}
    assert stages["scenarios"].runs_created == 2
    # Both runs (and the preflight's) were still there for the cleanup stage: cancel, delete and
    # reads for each.
    assert stages["cleanup"].requests >= 3 * 3
    lines = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    runs = {line["number"] for line in lines if line["kind"] == "journal-run"}
    cleaned = {line["number"] for line in lines if line["state"] == "cleaned"}
    assert len(runs) == 3 and cleaned == runs


def test_on_a_shared_tenant_the_fixture_takes_the_idle_checks_run(tmp_path: Path) -> None:
    """The idle check's run settles Completed and is the completed-run fixture's: the scenarios
    that read the fixture create nothing, and the cleanup stage removes that one run."""
    result = _on_a_slow_tenant(tmp_path, "entries-of-a-run", "retrieve-run-number-exact")
    assert result.status is Status.PASS, [(c.id, c.status, c.message) for c in result.checks]
    stages = {stage.name: stage for stage in result.stages}
    assert stages["preflight"].runs_created == 1 and stages["scenarios"].runs_created == 0
    fixture = next(c for c in result.checks if c.id == "completed-run")
    create = fixture.evidence[0]
    assert create.method == "POST" and create.status_code == 200
    assert any("preflight.idle" in v for k, v in create.request_headers.items()), create
    assert result.left_behind == []
    # Judged by two checks, sent once: once in the HAR.
    entries = har_dict(result)["log"]["entries"]
    posts = [e for e in entries if e["request"]["method"] == "POST"]
    assert [e["request"]["url"].rsplit("/", 1)[1] for e in posts] == ["journal-runs"]


def _on_a_slow_tenant(tmp_path: Path, *select: str, **flags: Any) -> RunResult:
    """``select`` run against the reference as one configured tenant with 0.2 s transitions
    (``flags``: more settings of the run)."""
    with ReferenceServer(ReferenceSettings(tokens=(TOKEN,), delay=0.2)) as server:
        flags |= {
            "base_url": server.url,
            "select": list(select),
            "reports_dir": str(tmp_path),
            "progress": "quiet",
        }
        return run(load_config(flags, env={"JR_TOKEN": TOKEN}))


def test_a_stage_keeps_the_runs_it_made_on_its_own_tenant_while_another_runs_inside_it() -> None:
    """Against the embedded reference the scenarios run inside the fuzz stage while the fuzzer
    still creates runs on its own tenant: those stay the fuzz stage's, whatever the timing."""
    from types import SimpleNamespace

    from conformance._ledger import RUN, Ledger
    from conformance._results import RunResult, Target
    from conformance._run import _Stages

    ledger = Ledger(None, run_id="jrc-test", base_url="http://127.0.0.1:1")
    result = RunResult(run_id="jrc-test", tool_version="0", target=Target("x"), started_at="")
    stages = _Stages(result, SimpleNamespace(requests_sent=0, retries=0), ledger)  # type: ignore[arg-type]
    with stages.stage("fuzz") as fuzz:
        stages.holds(fuzz, "fuzz-tenant")
        ledger.record("fuzz-tenant", RUN, "JR-00000001")
        with stages.stage("scenarios"):
            ledger.record("fuzz-tenant", RUN, "JR-00000002")  # the fuzzer's, meanwhile
            ledger.record("scenario-tenant", RUN, "JR-00000001")
        ledger.record("fuzz-tenant", RUN, "JR-00000003")
    counts = {stage.name: stage.runs_created for stage in result.stages}
    assert counts == {"scenarios": 1, "fuzz": 3}
