"""Summary journal entries on the reference: what runs produce, paging, manual entries, updates,
cancel and delete rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from reference_support import MODERN, NOV_2014, Tenant, category, reason_code

from conformance.reference import _seed

ACCOUNTING_CODE_TYPES = {
    "AccountsReceivable", "On-Account Receivable", "Cash", "OtherAssets", "CustomerCashOnAccount",
    "DeferredRevenue", "SalesTaxPayable", "OtherLiabilities", "SalesRevenue", "SalesDiscounts",
    "OtherRevenue", "OtherEquity", "BadDebt", "OtherExpenses",
}  # fmt: skip

MANUAL = {
    "accountingPeriodName": "Nov-2014",
    "currency": "USD",
    "journalEntryDate": "2014-11-04",
    "transactionType": "Invoice Item",
    "journalEntryItems": [
        {"accountingCodeName": "Accounts Receivable", "amount": "10.00", "type": "Debit"},
        {"accountingCodeName": "Sales Revenue", "amount": 10, "type": "Credit"},
    ],
}


def _sides(items: list[dict[str, Any]], field: str) -> tuple[Decimal, Decimal]:
    def total(kind: str) -> Decimal:
        return sum((Decimal(str(i[field])) for i in items if i["type"] == kind), Decimal(0))

    return total("Debit"), total("Credit")


# --- what a run produces -------------------------------------------------------------------------


def test_a_month_with_three_common_types_gives_ten_balanced_entries(tenant: Tenant) -> None:
    number = tenant.completed_run()
    entries = tenant.entries(number)
    assert len(entries) == 10
    assert [e["number"] for e in entries] == [f"JE-{n:08d}" for n in range(1, 11)]
    assert {e["transactionType"] for e in entries} == {
        "Invoice Item",
        "Electronic Payment",
        "Taxation Item",
    }
    assert {e["currency"] for e in entries} == {"USD", "EUR", "GBP"}
    for entry in entries:
        items = entry["journalEntryItems"]
        assert {i["type"] for i in items} == {"Debit", "Credit"}
        assert {i["accountingCodeType"] for i in items} <= ACCOUNTING_CODE_TYPES
        debit, credit = _sides(items, "amount")
        assert debit == credit > 0
        assert _sides(items, "homeCurrencyAmount")[0] == _sides(items, "homeCurrencyAmount")[1]
        assert entry["segments"][0]["segmentName"] == "Region"
        assert entry["status"] == "Created" and entry["transferredToAccounting"] == "No"
        assert entry["transferDateTime"] is None and entry["transferredBy"] is None
        assert entry["accountingPeriodName"] == "Nov-2014"
        assert entry["journalEntryDate"] == "2014-11-04"
        assert entry["homeCurrency"] == "USD"


def test_every_type_once_gives_the_documented_count(tenant: Tenant) -> None:
    types = [{"type": name} for name in _seed.TRANSACTION_TYPES]
    number = tenant.completed_run(dict(NOV_2014, transactionTypes=types))
    entries = tenant.entries(number)
    assert len(entries) == 33 == tenant.run(number)["totalJournalEntryCount"]
    codes = {i["accountingCodeType"] for e in entries for i in e["journalEntryItems"]}
    assert len(codes) >= 13


def test_a_type_without_activity_completes_empty(tenant: Tenant) -> None:
    body = dict(NOV_2014, transactionTypes=[{"type": "External Refund Application Item"}])
    number = tenant.completed_run(body)
    assert tenant.entries(number) == []
    assert tenant.run(number)["totalJournalEntryCount"] == 0


def test_the_same_run_gives_the_same_entries(tenant: Tenant) -> None:
    first = tenant.entries(tenant.completed_run())
    second = tenant.entries(tenant.completed_run())
    strip = [{k: v for k, v in e.items() if k != "number"} for e in first]
    assert strip == [{k: v for k, v in e.items() if k != "number"} for e in second]


# --- paging ------------------------------------------------------------------------------------


def test_default_page_is_eight_with_a_next_page_url(tenant: Tenant) -> None:
    number = tenant.completed_run()
    first = tenant.http.get(f"/v1/journal-entries/journal-runs/{number}").json()
    assert len(first["journalEntries"]) == 8 and first["success"] is True
    next_url = first["nextPage"]
    assert next_url.startswith(tenant.url)
    assert parse_qs(urlsplit(next_url).query) == {"page": ["2"], "pageSize": ["8"]}
    second = tenant.http.get(next_url).json()
    assert len(second["journalEntries"]) == 2 and "nextPage" not in second
    numbers = [e["number"] for e in first["journalEntries"] + second["journalEntries"]]
    assert len(set(numbers)) == 10


def test_page_sizes_and_pages_beyond_the_end(tenant: Tenant) -> None:
    number = tenant.completed_run()
    path = f"/v1/journal-entries/journal-runs/{number}"
    exact = tenant.http.get(path, params={"pageSize": 10}).json()
    assert len(exact["journalEntries"]) == 10 and "nextPage" not in exact
    small = tenant.http.get(path, params={"pageSize": 3, "page": 4}).json()
    assert len(small["journalEntries"]) == 1 and "nextPage" not in small
    beyond = tenant.http.get(path, params={"page": 9}).json()
    assert beyond == {"journalEntries": [], "success": True}
    assert len(tenant.http.get(path, params={"pageSize": 300}).json()["journalEntries"]) == 10


@pytest.mark.parametrize(
    "query",
    [{"page": 0}, {"page": -1}, {"pageSize": 301}, {"pageSize": 0}, {"page": "x"}, {"page": "1.5"}],
)
def test_invalid_paging_is_category_20(tenant: Tenant, query: dict[str, Any]) -> None:
    number = tenant.completed_run()
    response = tenant.http.get(
        f"/v1/journal-entries/journal-runs/{number}", params=query, headers=MODERN
    )
    assert (response.status_code, reason_code(response)) == (400, "50000020")


def test_listing_an_unknown_run_is_not_found(tenant: Tenant) -> None:
    response = tenant.http.get("/v1/journal-entries/journal-runs/JR-00000042")
    assert (response.status_code, reason_code(response)) == (200, "50000040")


# --- manual entries ----------------------------------------------------------------------------


def test_manual_entry_is_created_and_retrieved(tenant: Tenant) -> None:
    body = dict(MANUAL, notes="by hand", segments=[{"segmentName": "Region", "segmentValue": "W"}])
    response = tenant.http.post("/v1/journal-entries", json=body)
    assert response.json() == {"journalEntryNumber": "JE-00000001", "success": True}
    entry = tenant.entry("JE-00000001")
    assert entry["success"] is True and entry["status"] == "Created"
    assert entry["number"] == "JE-00000001" and entry["notes"] == "by hand"
    assert (entry["timePeriodStart"], entry["timePeriodEnd"]) == ("2014-11-01", "2014-11-30")
    debit, credit = entry["journalEntryItems"]
    assert (debit["accountingCodeType"], credit["accountingCodeType"]) == (
        "AccountsReceivable",
        "SalesRevenue",
    )
    assert debit["amount"] == credit["amount"] == 10
    assert entry["transferredToAccounting"] == "No"


def test_manual_entry_with_an_unknown_code_omits_the_type(tenant: Tenant) -> None:
    items = [
        {"accountingCodeName": "Misc", "amount": "5", "type": "Debit", "glAccountNumber": "9"},
        {"accountingCodeName": "Misc 2", "accountingCodeType": "OtherEquity", "amount": 5,
         "type": "Credit"},
    ]  # fmt: skip
    number = tenant.http.post(
        "/v1/journal-entries", json=dict(MANUAL, journalEntryItems=items)
    ).json()["journalEntryNumber"]
    debit, credit = tenant.entry(number)["journalEntryItems"]
    assert "accountingCodeType" not in debit and debit["glAccountNumber"] == "9"
    assert credit["accountingCodeType"] == "OtherEquity" and credit["glAccountName"] is None


def test_manual_entry_transferred_yes_records_who_and_when(tenant: Tenant) -> None:
    body = dict(MANUAL, transferredToAccounting="Yes")
    number = tenant.http.post("/v1/journal-entries", json=body).json()["journalEntryNumber"]
    entry = tenant.entry(number)
    assert entry["transferredToAccounting"] == "Yes"
    assert len(entry["transferDateTime"]) == 19 and entry["transferredBy"]


def _items(*pairs: tuple[str, Any]) -> list[dict[str, Any]]:
    return [
        {"accountingCodeName": "Cash", "type": kind, "amount": amount} for kind, amount in pairs
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"journalEntryItems": _items(("Debit", "10.00"), ("Credit", "9.99"))}, 30),
        ({"journalEntryItems": _items(("Debit", 1))}, 30),
        ({"journalEntryItems": []}, 20),
        ({"journalEntryItems": _items(("Debit", "1e3"), ("Credit", "1e3"))}, 20),
        ({"journalEntryItems": _items(("Debit", "-1"), ("Credit", "-1"))}, 20),
        ({"journalEntryItems": _items(("Debit", True), ("Credit", True))}, 20),
        ({"journalEntryItems": _items(("Sideways", "1"), ("Credit", "1"))}, 20),
        ({"journalEntryItems": [{"type": "Debit", "amount": "1"}]}, 22),
        ({"journalEntryItems": "all of them"}, 20),
        ({"journalEntryItems": [1, 2]}, 20),
        ({"accountingPeriodName": None}, 22),
        ({"accountingPeriodName": "Nov-1999"}, 30),
        ({"currency": "XYZ"}, 30),
        ({"currency": "DOLLARS"}, 20),
        ({"transactionType": None}, 22),
        ({"journalEntryDate": "2014-11-31"}, 20),
        ({"notes": "n" * 2001}, 20),
        ({"transferredToAccounting": "Maybe"}, 20),
        ({"segments": [{"segmentName": "Region"}]}, 22),
    ],
)
def test_invalid_manual_entries_are_refused(
    tenant: Tenant, change: dict[str, Any], expected: int
) -> None:
    body = {k: v for k, v in {**MANUAL, **change}.items() if v is not None}
    response = tenant.http.post("/v1/journal-entries", json=body, headers=MODERN)
    assert response.status_code == 400
    assert reason_code(response) == f"530200{expected:02d}"
    assert category(tenant.http.get("/v1/journal-entries/JE-00000001")) == 40


def test_notes_of_exactly_2000_characters_are_accepted(tenant: Tenant) -> None:
    response = tenant.http.post("/v1/journal-entries", json=dict(MANUAL, notes="n" * 2000))
    assert response.json()["success"] is True


# --- update, cancel, delete ----------------------------------------------------------------------


def _new_entry(tenant: Tenant, **fields: Any) -> str:
    response = tenant.http.post("/v1/journal-entries", json={**MANUAL, **fields})
    number: str = response.json()["journalEntryNumber"]
    return number


def test_update_basic_information(tenant: Tenant) -> None:
    number = _new_entry(tenant)
    update = {
        "notes": "checked",
        "journalEntryItems": [
            {"accountingCodeName": "Cash", "accountingCodeType": "Cash", "type": "Debit"},
            {"accountingCodeName": "Other Revenue", "type": "Credit"},
        ],
        "transferredToAccounting": "Processing",
    }
    response = tenant.http.put(f"/v1/journal-entries/{number}/basic-information", json=update)
    assert response.json() == {"success": True}
    entry = tenant.entry(number)
    assert entry["notes"] == "checked" and entry["transferredToAccounting"] == "Processing"
    debit, credit = entry["journalEntryItems"]
    assert (debit["accountingCodeName"], debit["accountingCodeType"]) == ("Cash", "Cash")
    assert credit["accountingCodeName"] == "Other Revenue"
    assert entry["transferDateTime"] is None  # only set for Yes
    # an empty update changes nothing and needs no field
    assert tenant.http.put(f"/v1/journal-entries/{number}/basic-information", json={}).json() == {
        "success": True
    }
    assert tenant.entry(number)["notes"] == "checked"


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({"journalEntryItems": [{"accountingCodeName": "Cash", "type": "Debit"}]}, 30),
        (
            {
                "journalEntryItems": [
                    {"accountingCodeName": "Cash", "type": "Credit"},
                    {"accountingCodeName": "Cash", "type": "Debit"},
                ]
            },
            30,
        ),
        ({"journalEntryItems": [{"type": "Debit"}, {"type": "Credit"}]}, 22),
        ({"notes": 5}, 20),
        ({"notes": "n" * 2001}, 20),
        ({"transferredToAccounting": "yes"}, 20),
    ],
)
def test_invalid_updates_are_refused(tenant: Tenant, update: dict[str, Any], expected: int) -> None:
    number = _new_entry(tenant)
    response = tenant.http.put(
        f"/v1/journal-entries/{number}/basic-information", json=update, headers=MODERN
    )
    assert (response.status_code, reason_code(response)) == (400, f"530300{expected:02d}")


def test_transfer_away_from_yes_needs_the_override_permission(tenant: Tenant) -> None:
    number = _new_entry(tenant, transferredToAccounting="Yes")
    path = f"/v1/journal-entries/{number}/basic-information"
    response = tenant.http.put(path, json={"transferredToAccounting": "No"}, headers=MODERN)
    assert (response.status_code, reason_code(response)) == (403, "53030010")
    assert tenant.entry(number)["transferredToAccounting"] == "Yes"
    # setting Yes again is no change, and allowed
    assert tenant.http.put(path, json={"transferredToAccounting": "Yes"}).json()["success"]


@pytest.mark.parametrize("state", ["Yes", "Processing"])
def test_a_transferred_entry_cannot_be_cancelled(tenant: Tenant, state: str) -> None:
    number = _new_entry(tenant, transferredToAccounting=state)
    response = tenant.http.put(f"/v1/journal-entries/{number}/cancel", headers=MODERN)
    assert (response.status_code, reason_code(response)) == (400, "50000030")
    assert tenant.entry(number)["status"] == "Created"


def test_cancel_then_delete_an_entry(tenant: Tenant) -> None:
    number = _new_entry(tenant, transferredToAccounting="Error")
    refused = tenant.http.delete(f"/v1/journal-entries/{number}", headers=MODERN)
    assert (refused.status_code, reason_code(refused)) == (400, "50000030")
    assert tenant.entry(number)["status"] == "Created"

    cancel = tenant.http.put(f"/v1/journal-entries/{number}/cancel")
    assert cancel.status_code == 200 and cancel.json() == {"success": True}
    assert tenant.entry(number)["status"] == "Cancelled"
    assert category(tenant.http.put(f"/v1/journal-entries/{number}/cancel")) == 30

    # a cancelled entry no longer changes
    path = f"/v1/journal-entries/{number}/basic-information"
    frozen = tenant.http.put(path, json={"transferredToAccounting": "Yes"})
    assert category(frozen) == 30
    assert tenant.entry(number)["transferredToAccounting"] == "Error"

    delete = tenant.http.delete(f"/v1/journal-entries/{number}")
    assert delete.status_code == 200 and delete.json() == {"success": True}
    gone = tenant.http.get(f"/v1/journal-entries/{number}", headers=MODERN)
    assert (gone.status_code, reason_code(gone)) == (404, "50000040")


def test_an_entry_of_a_run_can_be_cancelled_alone(tenant: Tenant) -> None:
    run = tenant.completed_run()
    first = tenant.entries(run)[0]["number"]
    assert tenant.http.put(f"/v1/journal-entries/{first}/cancel").json()["success"]
    statuses = [e["status"] for e in tenant.entries(run)]
    assert statuses.count("Cancelled") == 1
    assert tenant.run(run)["status"] == "Completed"


@pytest.mark.parametrize("path", ["/v1/journal-entries/JE-1", "/v1/journal-entries/je-00000001"])
def test_malformed_entry_numbers_are_category_20(tenant: Tenant, path: str) -> None:
    for method, suffix in (("GET", ""), ("DELETE", ""), ("PUT", "/cancel")):
        response = tenant.http.request(method, path + suffix, headers=MODERN)
        assert (response.status_code, reason_code(response)) == (400, "50000020")
