"""What the suite will never do: write to a production host unasked, write in a read-only run,
or cancel, delete or change a journal run it did not create (a pending one included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _hostile import HostileServer
from conftest import TOKEN

from conformance._catalogue import load_catalogue
from conformance._config import load_config
from conformance._exceptions import ConfigError
from conformance._http import BearerToken, HttpSettings, Request, Session
from conformance._ledger import load_ledger
from conformance._plan import make_plan, writes
from conformance.cli import main
from conformance.reference import ReferenceServer

NOV_2014 = {
    "accountingPeriodName": "Nov-2014",
    "journalEntryDate": "2014-11-04",
    "transactionTypes": [{"type": "Invoice Item"}],
}


def _session(server: ReferenceServer) -> Session:
    return Session(HttpSettings(base_url=server.url), BearerToken(TOKEN))


def _foreign_run(server: ReferenceServer, hold: float | None = None) -> str:
    headers = {"X-Reference-Hold": str(hold)} if hold else None
    with _session(server) as session:
        body = session.do(Request("POST", "/v1/journal-runs", json=NOV_2014, headers=headers))
        return str(body.json()["journalRunNumber"])


def _status(server: ReferenceServer, number: str) -> str:
    with _session(server) as session:
        return str(session.do(Request("GET", f"/v1/journal-runs/{number}")).json()["status"])


def test_safe_defaults() -> None:
    config = load_config({}, env={})
    assert config.verify_tls and not config.follow_redirects and not config.read_only


def test_a_production_host_refuses_writes_unless_asked() -> None:
    env = {"JR_TOKEN": "t"}
    for host in ("rest.zuora.com", "rest.na.zuora.com", "rest.eu.zuora.com", "rest.ap.zuora.com"):
        with pytest.raises(ConfigError, match="refuses to write there"):
            load_config({"base_url": f"https://{host}"}, env=env)
        assert load_config({"base_url": f"https://{host}", "read_only": True}, env=env)
        allowed = load_config({"base_url": f"https://{host}", "allow_production": True}, env=env)
        assert any("production tenant" in w for w in allowed.warnings)


def test_read_only_plans_only_what_reads(capsys: pytest.CaptureFixture[str]) -> None:
    catalogue = load_catalogue()
    plan = make_plan(load_config({"read_only": True}, env={}), catalogue)
    assert plan.scenarios and plan.fuzz_checks and not plan.writes  # fuzz: GET operations
    assert not any(writes(s, catalogue) for s in plan.scenarios)
    assert any(getattr(item, "id", "") == "create-with-period" for item in plan.left_out)
    assert main(["list", "--read-only"]) == 0
    out = capsys.readouterr().out
    assert "skipped   create-with-period: writes" in out
    assert main(["list", "--read-only", "--select", "create-with-period"]) == 2
    assert "nothing selected only reads" in capsys.readouterr().err


def test_a_read_only_run_sends_nothing_but_reads(
    reference: ReferenceServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    reports = tmp_path / "reports"
    with HostileServer(reference.url) as proxy:
        code = main(
            [
                "run",
                "--base-url",
                proxy.url,
                "--read-only",
                "--quiet",
                "--select",
                "track-id-*",
                "create-with-period",
                "--reports",
                str(reports),
            ]
        )
        methods = {seen.method for seen in proxy.seen}
    assert code == 0
    assert methods == {"GET"}
    data = json.loads((reports / "results.json").read_text())
    skipped = [c for c in data["checks"] if c["status"] == "skip"]
    assert any("read-only" in c["message"] for c in skipped)
    assert load_ledger(reports / "ledger.jsonl") == ([], [])


def test_a_pending_run_the_suite_did_not_create_stops_the_run_and_is_left_alone(
    reference: ReferenceServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    foreign = _foreign_run(reference, hold=60)
    assert _status(reference, foreign) == "Processing"
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    with HostileServer(reference.url) as proxy:
        code = main(
            [
                "run",
                "--base-url",
                proxy.url,
                "--quiet",
                "--select",
                "create-with-period",
                "--pending-wait",
                "1",
                "--reports",
                str(tmp_path),
            ]
        )
        touched = [s for s in proxy.seen if foreign in s.path and s.method != "GET"]
    out = capsys.readouterr().out
    assert code == 3, out
    assert "another journal run is probably pending or processing" in out
    assert "never cancels a run it did not create" in out
    assert touched == []
    assert _status(reference, foreign) == "Processing"


def test_the_run_waits_for_a_pending_run_to_finish_and_never_cancels_it(
    reference: ReferenceServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The hold leaves the suite's start-up (catalogue, spec, tenant discovery) several seconds of
    # room on a slow machine: the preflight must find the run still executing.
    foreign = _foreign_run(reference, hold=6)
    assert _status(reference, foreign) == "Processing"
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    code = main(
        [
            "run",
            "--base-url",
            reference.url,
            "--select",
            "create-with-period",
            "--pending-wait",
            "30",
            "--reports",
            str(tmp_path),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert "waiting up to 30 s" in captured.err  # the progress said why it waited
    assert _status(reference, foreign) == "Completed"


FOREIGN_PATCH = """
id: patch-a-foreign-run
title: Sends a change to a run someone else made
requirements: [JR-ERRORS-010]
steps:
  - name: update-run
    operation: GET_JournalRun
    method: PATCH
    path_params: {jr-number: JR-00000001}
    body: {}
    expect:
      error: {category: [45, 40]}
"""


def test_a_scenario_that_would_touch_a_foreign_run_is_skipped(
    reference: ReferenceServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    foreign = _foreign_run(reference)
    assert foreign == "JR-00000001"  # what the scenario PATCHes
    scenario = tmp_path / "patch-a-foreign-run.yaml"
    scenario.write_text(FOREIGN_PATCH)
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    with HostileServer(reference.url) as proxy:
        code = main(
            [
                "scenarios",
                *("--base-url", proxy.url, "--scenarios", str(scenario)),
                *("--reports", str(tmp_path / "reports"), "--quiet"),
            ]
        )
        touched = [s.method for s in proxy.seen if s.path.endswith(foreign)]
    out = capsys.readouterr().out
    assert code == 0, out
    assert set(touched) == {"GET"}  # read to see it exists; never changed
    assert "SKIP" in out and "which exists and was not created by this run" in out
    assert _status(reference, foreign) == "Completed"


def test_the_library_addresses_only_numbers_nobody_has(
    reference: ReferenceServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tenant's own JR-00000001 costs no check: scenarios that need "some run" name one a
    read shows absent, so they run to the end."""
    _foreign_run(reference)
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    code = main(
        [
            "run",
            "--base-url",
            reference.url,
            "--quiet",
            "--select",
            "unsupported-method",
            "missing-credentials",
            "bad-credentials",
            "auth-error-category-should",
            "--reports",
            str(tmp_path),
        ]
    )
    checks = json.loads((tmp_path / "results.json").read_text())["checks"]
    assert code == 0
    assert {c["id"]: c["status"] for c in checks if c["kind"] == "scenario"} == {
        "unsupported-method": "pass",
        "missing-credentials": "pass",
        "bad-credentials": "pass",
        "auth-error-category-should": "pass",
    }


def test_the_fuzz_stage_never_changes_what_the_suite_did_not_create(
    reference: ReferenceServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    foreign = _foreign_run(reference)  # JR-00000001, with entries JE-00000001 ...
    with _session(reference) as session:
        listed = session.do(Request("GET", f"/v1/journal-entries/journal-runs/{foreign}")).json()
    foreign_entries = {entry["number"] for entry in listed["journalEntries"]}
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    with HostileServer(reference.url) as proxy:
        code = main(
            [
                "run",
                "--base-url",
                proxy.url,
                "--quiet",
                "--select",
                "fuzz",
                "--max-examples",
                "2",
                "--reports",
                str(tmp_path),
            ]
        )
        seen = list(proxy.seen)
    assert code in (0, 1)
    writes = [s for s in seen if s.method not in ("GET", "HEAD", "OPTIONS", "TRACE", "QUERY")]
    assert any(s.method == "POST" for s in writes)  # it did fuzz writes ...
    touched = [
        f"{s.method} {s.path}"
        for s in writes
        if s.path.rstrip("/").split("/")[-1] in {foreign, *foreign_entries}
        or f"/{foreign}/" in s.path
        or any(f"/{entry}/" in s.path for entry in foreign_entries)
    ]
    assert touched == []  # ... and none to the foreign run or its entries
    assert _status(reference, foreign) == "Completed"
    # What the fuzzer created is in the ledger and was cleaned up (or reported left behind).
    items, _ = load_ledger(tmp_path / "ledger.jsonl")
    assert len(items) > 1
    left = json.loads((tmp_path / "results.json").read_text())["left_behind"]
    assert {i.number for i in items if i.state != "cleaned"} == {i["number"] for i in left}


def test_a_read_only_fuzz_stage_sends_no_write(
    reference: ReferenceServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    with HostileServer(reference.url) as proxy:
        code = main(
            [
                "run",
                "--base-url",
                proxy.url,
                "--quiet",
                "--read-only",
                "--select",
                "fuzz",
                "--max-examples",
                "2",
                "--reports",
                str(tmp_path),
            ]
        )
        methods = {s.method for s in proxy.seen}
    assert code == 0
    assert methods <= {"GET", "HEAD", "OPTIONS", "TRACE", "QUERY"}, methods
    checks = json.loads((tmp_path / "results.json").read_text())["checks"]
    assert any(c["id"] == "fuzz.lifecycle" and c["status"] == "skip" for c in checks)
