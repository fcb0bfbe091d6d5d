"""The reference tenant's data is configurable: its accounting periods (``periods``), the earliest
allowed target date (``earliest_date``), ``GET /v1/accounting-periods``, and the serve flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from reference_support import MODERN, STATIC_TOKEN, Tenant, category, reason_code

import conformance.reference
from conformance._exceptions import ConfigError
from conformance.cli import main
from conformance.reference import ReferenceServer, ReferenceSettings

TYPES = [{"type": "Invoice Item"}]


@pytest.fixture(scope="module")
def bounded() -> Iterator[ReferenceServer]:
    """Periods Jun-2014 .. Dec-2016, earliest allowed target date 2015-01-01."""
    settings = ReferenceSettings(periods=("2014-06", "2016-12"), earliest_date="2015-01-01")
    with ReferenceServer(settings) as running:
        yield running


@pytest.fixture
def client(bounded: ReferenceServer) -> Iterator[Tenant]:
    made = Tenant(bounded.url)
    yield made
    made.close()


def _period_run(name: str, entry_date: str) -> dict[str, Any]:
    return {"accountingPeriodName": name, "journalEntryDate": entry_date, "transactionTypes": TYPES}


def _dated_run(start: str, end: str) -> dict[str, Any]:
    return {
        "targetStartDate": start,
        "targetEndDate": end,
        "journalEntryDate": end,
        "transactionTypes": TYPES,
    }


def _message(response: httpx.Response) -> str:
    return str(response.json()["reasons"][0]["message"])


@pytest.mark.parametrize("name", ["May-2014", "Jan-2017", "Dec-2027"])
def test_a_period_outside_the_range_does_not_exist(client: Tenant, name: str) -> None:
    response = client.http.post("/v1/journal-runs", json=_period_run(name, "2015-06-01"))
    assert response.status_code == 200
    assert reason_code(response) == "53010030"
    assert _message(response) == f"Accounting period {name!r} does not exist."


def test_target_dates_outside_the_periods_are_refused(client: Tenant) -> None:
    response = client.http.post("/v1/journal-runs", json=_dated_run("2017-01-01", "2017-01-31"))
    assert category(response) == 30
    assert "within one accounting period" in _message(response)


def test_the_first_and_last_period_exist(client: Tenant) -> None:
    client.create_run(_period_run("Dec-2016", "2016-12-31"))
    client.create_run(_period_run("Jan-2015", "2015-01-05"))


def test_a_period_starting_before_the_earliest_date_is_refused(client: Tenant) -> None:
    response = client.http.post("/v1/journal-runs", json=_period_run("Dec-2014", "2015-01-05"))
    assert reason_code(response) == "53010020"
    assert _message(response) == (
        "accountingPeriodName names Dec-2014, which starts on 2014-12-01, before the earliest "
        "allowed target date 2015-01-01."
    )
    modern = client.http.post(
        "/v1/journal-runs", json=_period_run("Jun-2014", "2015-01-05"), headers=MODERN
    )
    assert modern.status_code == 400 and reason_code(modern) == "53010020"


def test_a_target_start_just_below_the_earliest_date_is_refused(client: Tenant) -> None:
    response = client.http.post("/v1/journal-runs", json=_dated_run("2014-12-31", "2014-12-31"))
    assert reason_code(response) == "53010020"
    assert _message(response) == (
        "targetStartDate 2014-12-31 is before the earliest allowed target date 2015-01-01."
    )


def test_a_target_start_on_the_earliest_date_is_accepted(client: Tenant) -> None:
    number = client.create_run(_dated_run("2015-01-01", "2015-01-31"))
    run = client.wait(number, "Completed")
    assert (run["targetStartDate"], run["targetEndDate"]) == ("2015-01-01", "2015-01-31")


def test_the_journal_entry_date_is_not_bounded_by_the_earliest_date(client: Tenant) -> None:
    """The earliest date bounds target dates only; journalEntryDate is not a target date."""
    client.create_run(_period_run("Jan-2015", "2014-12-31"))


def test_the_default_tenant_has_2014_to_2027_and_no_lower_bound(tenant: Tenant) -> None:
    for name in ("Jan-2014", "Dec-2027"):
        tenant.create_run(_period_run(name, "2014-01-02"))
    tenant.create_run(_dated_run("2014-01-01", "2014-01-01"))
    response = tenant.http.post("/v1/journal-runs", json=_period_run("Dec-2013", "2014-01-02"))
    assert reason_code(response) == "53010030"


def test_the_accounting_periods_list(client: Tenant) -> None:
    response = client.http.get("/v1/accounting-periods")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accountingPeriods", "success"} and body["success"] is True
    periods = body["accountingPeriods"]
    assert len(periods) == 31
    first = periods[0]
    assert set(first) == {"id", "name", "startDate", "endDate", "status", "fiscalYear"}
    assert first["name"] == "Jun-2014"
    assert (first["startDate"], first["endDate"]) == ("2014-06-01", "2014-06-30")
    assert first["status"] == "Open" and first["fiscalYear"] == 2014
    assert isinstance(first["id"], str) and len(first["id"]) == 32
    feb = next(period for period in periods if period["name"] == "Feb-2016")
    assert (feb["startDate"], feb["endDate"], feb["fiscalYear"]) == (
        "2016-02-01",
        "2016-02-29",
        2016,
    )
    assert periods[-1]["name"] == "Dec-2016"
    assert len({period["id"] for period in periods}) == 31
    # The same for every tenant and every call.
    assert client.http.get("/v1/accounting-periods").json() == body


def test_the_default_accounting_periods(server: ReferenceServer) -> None:
    response = httpx.get(
        f"{server.url}/v1/accounting-periods", headers={"Authorization": f"Bearer {STATIC_TOKEN}"}
    )
    periods = response.json()["accountingPeriods"]
    assert len(periods) == 14 * 12
    assert (periods[0]["name"], periods[-1]["name"]) == ("Jan-2014", "Dec-2027")
    nov = next(period for period in periods if period["name"] == "Nov-2014")
    assert nov["startDate"] == "2014-11-01" and nov["endDate"] == "2014-11-30"


def test_the_accounting_periods_need_authentication(bounded: ReferenceServer) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = httpx.get(f"{bounded.url}/v1/accounting-periods", headers=headers)
        assert response.status_code == 401
        assert category(response) == 11


def test_the_accounting_periods_are_read_only(client: Tenant) -> None:
    response = client.http.post("/v1/accounting-periods", json={})
    assert category(response) == 45
    assert response.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"periods": ("2014-13", "2015-01")}, "YYYY-MM"),
        ({"periods": ("2014-1", "2015-01")}, "YYYY-MM"),
        ({"periods": ("2016-01", "2015-12")}, "after the last month"),
        ({"periods": "2014-01:2015-01"}, "first month, last month"),
        ({"periods": ("2014-01",)}, "first month, last month"),
        ({"periods": ("2014-01", 2015)}, "first month, last month"),
        ({"periods": ("1900-01", "2014-01")}, "at most 1200"),
        ({"earliest_date": "2015-1-1"}, "YYYY-MM-DD"),
        ({"earliest_date": "2015-02-30"}, "YYYY-MM-DD"),
        ({"earliest_date": ""}, "YYYY-MM-DD"),
        ({"earliest_date": "2028-01-01"}, "after the last period"),
    ],
)
def test_bad_tenant_data_settings_are_config_errors(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        ReferenceSettings(**changes)


def test_good_tenant_data_settings() -> None:
    assert ReferenceSettings().periods == ("2014-01", "2027-12")
    assert ReferenceSettings().earliest_date is None
    one = ReferenceSettings(periods=["2015-03", "2015-03"], earliest_date="2015-03-31")  # type: ignore[arg-type]
    assert one.periods == ("2015-03", "2015-03")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[ReferenceSettings]:
    seen: list[ReferenceSettings] = []

    def fake_serve(settings: ReferenceSettings, **_: Any) -> None:
        seen.append(settings)

    monkeypatch.setattr(conformance.reference, "serve", fake_serve)
    return seen


def test_serve_flags(served: list[ReferenceSettings]) -> None:
    assert main(["serve", "--periods", "2024-01:2026-12", "--earliest-date", "2015-01-01"]) == 0
    assert main(["serve"]) == 0
    flagged, default = served
    assert flagged.periods == ("2024-01", "2026-12")
    assert flagged.earliest_date == "2015-01-01"
    assert default.periods == ("2014-01", "2027-12") and default.earliest_date is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--periods", "2024-01"],
        ["--periods", "2024-01:"],
        ["--periods", "2026-12:2024-01"],
        ["--periods", "2024-1:2024-12"],
        ["--earliest-date", "yesterday"],
    ],
)
def test_bad_serve_flags_are_usage_errors(
    served: list[ReferenceSettings],
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        code = main(["serve", *argv])
    except SystemExit as exit_:  # argparse's own refusal
        code = int(exit_.code or 0)
    assert code == 2 and not served
    assert capsys.readouterr().err


def test_periods_beyond_the_default_range_complete(make_server: Any, make_tenant: Any) -> None:
    later = make_tenant(make_server(periods=("2027-11", "2028-02")))
    number = later.completed_run(_period_run("Feb-2028", "2028-02-29"))
    assert {entry["accountingPeriodName"] for entry in later.entries(number)} == {"Feb-2028"}
    refused = later.http.post("/v1/journal-runs", json=_period_run("Oct-2027", "2027-10-01"))
    assert reason_code(refused) == "53010030"


def test_manual_entries_use_the_tenant_periods(client: Tenant) -> None:
    entry = {
        "accountingPeriodName": "Jan-2017",
        "currency": "USD",
        "journalEntryDate": "2017-01-04",
        "transactionType": "Invoice Item",
        "journalEntryItems": [
            {"accountingCodeName": "Accounts Receivable", "amount": "10.00", "type": "Debit"},
            {"accountingCodeName": "Sales Revenue", "amount": "10.00", "type": "Credit"},
        ],
    }
    response = client.http.post("/v1/journal-entries", json=entry)
    assert reason_code(response) == "53020030"
    assert "does not exist" in _message(response)
    inside = dict(entry, accountingPeriodName="Dec-2016", journalEntryDate="2016-12-04")
    accepted = client.http.post("/v1/journal-entries", json=inside)
    assert accepted.json()["success"] is True, accepted.text
