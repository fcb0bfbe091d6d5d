"""exchanges.har: HAR 1.2, valid against the HAR schema, readable by an independent consumer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from haralyzer import HarParser
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6
from report_samples import HOSTILE, make_check, ok

from conformance import Exchange, RunResult
from conformance.cli import main
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.report import write_reports
from conformance.report._har import har_dict, render_har

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
    recorded = sum(len(check["evidence"]) for check in results["checks"])
    assert recorded > 0
    assert len(entries(data)) == recorded
    assert {e["_check"] for e in entries(data)} == {"preflight", "bad-credentials"}

    # haralyzer: entries without a page land on its "unknown" page.
    har = HarParser.from_file(str(tmp_path / "exchanges.har"))
    (page,) = har.pages
    assert len(page.entries) == recorded
    assert {entry.request.method for entry in page.entries} >= {"GET"}
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
