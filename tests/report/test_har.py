"""exchanges.har: HAR 1.2, valid against the HAR schema, readable by an independent consumer."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from haralyzer import HarParser
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6
from report_samples import HOSTILE, make_check, ok, sample_pass_run

from conformance import Exchange, RunResult
from conformance.cli import main
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.report import write_reports
from conformance.report._har import FuzzSpool, attach_spool, har_dict, render_har, spool_of

#: The HAR 1.2 JSON Schema of the npm package har-schema 2.0.0 (ISC, see har-schema/LICENSE).
HAR_SCHEMA = Path(__file__).parent / "har-schema"
TOKEN = "har-test-token-0123456789abcdef"


def validate_har(data: Any) -> None:
    resources = [
        (f"{path.name}", Resource.from_contents(json.loads(path.read_text()), DRAFT6))
        for path in HAR_SCHEMA.glob("*.json")
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = json.loads((HAR_SCHEMA / "har.json").read_text())
    validator = jsonschema.Draft6Validator(
        schema, registry=registry, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER
    )
    validator.validate(data)


def entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = data["log"]["entries"]
    return result


def test_one_entry_per_exchange_with_the_check_the_requirements_and_the_status(
    mixed_run: RunResult,
) -> None:
    data = har_dict(mixed_run)
    validate_har(data)
    assert data["log"]["version"] == "1.2"
    assert data["log"]["pages"] == []
    expected = [
        (check.id, check.status.label) for check in mixed_run.checks for _ in check.evidence
    ]
    assert [(e["_check"], e["_status"]) for e in entries(data)] == expected
    hostile, huge, errored = entries(data)
    # The requirements the failed assertion judging this exchange names, not the whole check's.
    assert hostile["_requirements"] == ["JR-CREATE-001"]
    assert huge["_requirements"] == ["JR-CREATE-002"]
    assert hostile["request"]["queryString"] == [{"name": "x", "value": "<script>"}]
    assert hostile["request"]["postData"]["text"] == '{"journalEntryDate": "2014-11-04"}'
    assert hostile["response"]["content"]["text"] == HOSTILE
    assert hostile["response"]["statusText"] == "Internal Server Error"
    # An exchange that failed below HTTP: status 0 and the reason in _error.
    assert errored["response"]["status"] == 0
    assert errored["_error"] == "timed out"
    assert errored["_requirements"] == ["JR-CANCEL-003"]


def test_time_is_the_sum_of_the_timings(mixed_run: RunResult) -> None:
    for entry in entries(har_dict(mixed_run)):
        timings = [v for k, v in entry["timings"].items() if k != "comment" and v != -1]
        assert entry["time"] == pytest.approx(sum(timings))
    assert entries(har_dict(mixed_run))[0]["time"] == 12.5


def test_a_run_without_evidence_is_an_empty_valid_har(pass_run: RunResult) -> None:
    data = json.loads(render_har(pass_run))
    validate_har(data)
    assert entries(data) == []


def test_fuzz_evidence_is_in_the_har_too(pass_run: RunResult) -> None:
    fuzz = make_check("fuzz.server-errors", ok("JR-ERRORS-009"), kind="fuzz", area="errors")
    fuzz.add_exchange(Exchange("GET", "http://h/v1/journal-runs/%00", status_code=500))
    pass_run.checks.append(fuzz)
    (entry,) = entries(har_dict(pass_run))
    assert entry["_check"] == "fuzz.server-errors"
    assert entry["_requirements"] == ["JR-ERRORS-009"]


def test_write_reports_writes_it_whatever_the_formats(tmp_path: Path, mixed_run: RunResult) -> None:
    written = write_reports(mixed_run, tmp_path, ["markdown"])
    assert written["har"] == tmp_path / "exchanges.har"
    validate_har(json.loads(written["har"].read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceSettings(tokens=(TOKEN,))) as server:
        yield server


def test_a_real_run_writes_a_redacted_har_an_independent_reader_understands(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server: ReferenceServer,
) -> None:
    for name in ("JR_BASE_URL", "JR_CLIENT_ID", "JR_CLIENT_SECRET", "JR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JR_TOKEN", TOKEN)
    code = main(
        [
            "run",
            "--base-url",
            server.url,
            "--select",
            "bad-credentials",
            "fuzz.request-id",
            "--max-time",
            "3",
            "--reports",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().out
    text = (tmp_path / "exchanges.har").read_text(encoding="utf-8")
    assert TOKEN not in text
    data = json.loads(text)
    validate_har(data)
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    recorded = sum(len(c["evidence"]) for c in results["checks"] if c["kind"] != "fuzz")
    fuzzed = [e for e in entries(data) if "_fuzz" in e]
    stages = {stage["name"]: stage["requests"] for stage in results["stages"]}
    # Every exchange of the scenarios and the preflight, and every one the fuzz stage recorded
    # (its capability probes and its own preflight read are counted, not recorded).
    assert recorded > 0 and 0 < len(fuzzed) <= stages["fuzz"]
    assert len(entries(data)) == recorded + len(fuzzed)
    assert {e["_check"] for e in entries(data)} == {
        "preflight",
        "bad-credentials",
        "fuzz.request-id",
    }
    assert {e["_status"] for e in fuzzed} == {"pass"}
    assert all(e["_requirements"] == ["JR-HEADERS-007"] for e in fuzzed)
    recorded += len(fuzzed)

    # haralyzer: entries without a page land on its "unknown" page.
    har = HarParser.from_file(str(tmp_path / "exchanges.har"))
    (page,) = har.pages
    assert len(page.entries) == recorded
    assert {entry.request.method for entry in page.entries} >= {"GET", "POST"}
    assert all(entry.request.url.startswith(server.url) for entry in page.entries)
    assert all(isinstance(entry.response.status, int) for entry in page.entries)
    preflight = [e for e in page.entries if e.raw_entry["_check"] == "preflight"]
    assert preflight
    for entry in preflight:
        auth = [h["value"] for h in entry.request.headers if h["name"].lower() == "authorization"]
        assert auth and all("REDACTED" in value for value in auth)


def test_the_schema_check_is_not_vacuous(mixed_run: RunResult) -> None:
    data = har_dict(mixed_run)
    del entries(data)[0]["request"]["headers"][0]["value"]
    with pytest.raises(jsonschema.ValidationError, match="'value' is a required property"):
        validate_har(data)


def _spooled_run() -> tuple[RunResult, FuzzSpool]:
    run = sample_pass_run()
    fuzz = make_check("fuzz.request-id", ok("JR-CREATE-003"), kind="fuzz", area="headers")
    fuzz.add_exchange(Exchange("GET", "http://h/v1/journal-runs/JR-1", status_code=200))
    run.checks.insert(2, fuzz)
    scenario = run.checks[0]
    scenario.add_exchange(Exchange("POST", "http://h/v1/journal-runs", status_code=200))
    levels = {r.id: r.level for r in run.requirements}
    spool = FuzzSpool(levels, {"fuzz.request-id", "fuzz.lifecycle"})
    attach_spool(run, spool)
    one = Exchange("GET", "http://h/v1/journal-runs/JR-2", status_code=200, elapsed_ms=3)
    spool.add(one, [("fuzz.request-id", "JR-CREATE-003", True)], "main pass, examples")
    spool.add(one, [("fuzz.lifecycle", "JR-CREATE-001", False)], "stateful")
    spool.add(one, [("fuzz.request-id", "JR-CREATE-003", False)], "stateful")
    spool.add(one, [("fuzz.not-selected", "JR-CREATE-001", False)], "stateful")
    spool.add(Exchange("GET", "http://h/x", error="reset"), [], "legacy pass, coverage")
    return run, spool


def test_with_a_spool_the_fuzz_stage_is_every_exchange_it_recorded_in_place() -> None:
    run, _spool = _spooled_run()
    data = har_dict(run)
    validate_har(data)
    got = [(e["_check"], e["_status"], e.get("_fuzz")) for e in entries(data)]
    assert got == [
        ("create-ok", "pass", None),  # the scenario's evidence, then the fuzz stage in its place
        ("fuzz.request-id", "pass", "main pass, examples"),
        ("fuzz.lifecycle", "fail", "stateful"),  # a MUST
        ("fuzz.request-id", "warn", "stateful"),  # a SHOULD
        ("fuzz", "skip", "stateful"),  # judged only by a check the run did not select
        ("fuzz", "skip", "legacy pass, coverage"),
    ]  # and the fuzz check's own evidence (its violations) is not there twice
    assert entries(data)[-1]["_error"] == "reset"
    assert entries(data)[1]["startedDateTime"].endswith("Z")
    assert entries(data)[1]["time"] == 3


def test_write_reports_streams_the_spool_into_the_file(tmp_path: Path) -> None:
    run, spool = _spooled_run()
    written = write_reports(run, tmp_path, ["json"])
    data = json.loads(written["har"].read_text(encoding="utf-8"))
    assert len(entries(data)) == 1 + spool.count
    # Written twice (the spool is read, not consumed): the same file.
    assert json.loads(render_har(run)) == data


def test_the_spool_goes_with_its_result() -> None:
    run, spool = _spooled_run()
    assert spool_of(run) is spool
    del run
    gc.collect()
    assert spool._file.closed
