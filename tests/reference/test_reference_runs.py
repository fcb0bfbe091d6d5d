"""Journal runs on the reference: create validation, lifecycle, cancel, delete, the controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _wait import wait_until
from reference_support import MODERN, NOV_2014, Tenant, category, reason_code

from conformance.reference import ReferenceServer

IIE = [{"type": "Invoice Item"}]


def _create(tenant: Tenant, body: Any, **headers: str) -> Any:
    return tenant.http.post("/v1/journal-runs", json=body, headers={**MODERN, **headers})


# --- create ------------------------------------------------------------------------------------


def test_create_answers_the_number_and_the_run_keeps_what_was_sent(tenant: Tenant) -> None:
    response = _create(tenant, NOV_2014)
    assert response.status_code == 200
    assert response.json() == {"journalRunNumber": "JR-00000001", "success": True}
    run = tenant.wait("JR-00000001", "Completed")
    assert run["number"] == "JR-00000001" and "journalRunNumber" not in run
    assert run["journalEntryDate"] == "2014-11-04"
    assert (run["targetStartDate"], run["targetEndDate"]) == ("2014-11-01", "2014-11-30")
    assert run["transactionTypes"] == NOV_2014["transactionTypes"]
    assert run["totalJournalEntryCount"] == 10
    assert run["success"] is True and run["aggregateCurrency"] is False


def test_run_numbers_count_up_per_tenant(tenant: Tenant, server: ReferenceServer) -> None:
    first = tenant.completed_run()
    second = tenant.completed_run()
    assert (first, second) == ("JR-00000001", "JR-00000002")
    other = Tenant(server.url)
    try:
        assert other.completed_run() == "JR-00000001"  # another tenant, its own numbering
        assert other.run(first)["status"] == "Completed"
        assert other.run(second)["success"] is False  # and it cannot see this tenant's runs
    finally:
        other.close()


def test_create_by_target_dates_inside_one_period(tenant: Tenant) -> None:
    body = {
        "journalEntryDate": "2014-11-20",
        "targetStartDate": "2014-11-03",
        "targetEndDate": "2014-11-17",
        "transactionTypes": [{"type": "Electronic Payment"}, {"type": "External Payment"}],
    }
    number = tenant.create_run(body)
    run = tenant.wait(number, "Completed")
    assert (run["targetStartDate"], run["targetEndDate"]) == ("2014-11-03", "2014-11-17")
    assert run["totalJournalEntryCount"] == 3 + 1
    entries = tenant.entries(number)
    assert {(e["timePeriodStart"], e["timePeriodEnd"]) for e in entries} == {
        ("2014-11-03", "2014-11-17")
    }
    assert {e["accountingPeriodName"] for e in entries} == {"Nov-2014"}


def test_period_name_with_its_own_dates_is_accepted(tenant: Tenant) -> None:
    body = dict(NOV_2014, targetStartDate="2014-11-01", targetEndDate="2014-11-30")
    assert _create(tenant, body).json()["success"] is True


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"accountingPeriodName": "Nov-2014", "transactionTypes": IIE}, 22),
        ({"accountingPeriodName": "Nov-2014", "journalEntryDate": "2014-11-04"}, 22),
        (dict(NOV_2014, transactionTypes=[]), 20),
        (dict(NOV_2014, transactionTypes=[{"type": "Invoice"}]), 20),
        (dict(NOV_2014, transactionTypes=[{}]), 22),
        (dict(NOV_2014, transactionTypes=["Invoice Item"]), 20),
        (dict(NOV_2014, transactionTypes={"type": "Invoice Item"}), 20),
        ({"journalEntryDate": "2014-11-04", "transactionTypes": IIE}, 22),
        (
            {
                "journalEntryDate": "2014-11-04",
                "targetStartDate": "2014-11-01",
                "transactionTypes": IIE,
            },
            22,
        ),
        (
            {
                "journalEntryDate": "2014-11-04",
                "targetEndDate": "2014-11-30",
                "transactionTypes": IIE,
            },
            22,
        ),
        (dict(NOV_2014, accountingPeriodName="Nov-2099"), 30),
        (dict(NOV_2014, accountingPeriodName="x" * 101), 20),
        (dict(NOV_2014, accountingPeriodName=12), 20),
        (dict(NOV_2014, targetStartDate="2014-11-02"), 30),
        (dict(NOV_2014, targetEndDate="2014-11-29", targetStartDate="2014-11-01"), 30),
        (dict(NOV_2014, targetEndDate="2014-11-30"), 22),
        (dict(NOV_2014, journalEntryDate="2014-02-30"), 20),
        (dict(NOV_2014, journalEntryDate="04/11/2014"), 20),
        (dict(NOV_2014, journalEntryDate="20141104"), 20),
        (dict(NOV_2014, journalEntryDate=20141104), 20),
        (
            {
                "journalEntryDate": "2014-11-04",
                "targetStartDate": "2014-11-20",
                "targetEndDate": "2014-12-05",
                "transactionTypes": IIE,
            },
            30,
        ),
        (
            {
                "journalEntryDate": "2014-11-04",
                "targetStartDate": "2014-11-20",
                "targetEndDate": "2014-11-05",
                "transactionTypes": IIE,
            },
            30,
        ),
        (
            {
                "journalEntryDate": "2031-01-04",
                "targetStartDate": "2031-01-01",
                "targetEndDate": "2031-01-31",
                "transactionTypes": IIE,
            },
            30,
        ),
        (
            {
                "journalEntryDate": "2014-11-04",
                "targetStartDate": "2014-11-01",
                "targetEndDate": "2014-11-30",
                "transactionTypes": [{"type": "Revenue Event Item"}],
            },
            30,
        ),
    ],
)
def test_invalid_creates_are_refused_with_their_category(
    tenant: Tenant, body: dict[str, Any], expected: int
) -> None:
    response = _create(tenant, body)
    assert category(response) == expected
    assert response.status_code == {20: 400, 22: 400, 30: 400}[expected]
    assert reason_code(response) == f"530100{expected:02d}"
    # nothing was created
    assert tenant.run("JR-00000001")["success"] is False


def test_revenue_event_item_works_with_a_period(tenant: Tenant) -> None:
    body = dict(NOV_2014, transactionTypes=[{"type": "Revenue Event Item"}])
    run = tenant.wait(tenant.create_run(body), "Completed")
    assert run["totalJournalEntryCount"] == 2


def test_unknown_body_fields_are_ignored_and_repeated_types_count_once(tenant: Tenant) -> None:
    body = dict(
        NOV_2014,
        somethingNew={"x": 1},
        transactionTypes=[{"type": "Invoice Item", "extra": True}, {"type": "Invoice Item"}],
    )
    run = tenant.wait(tenant.create_run(body), "Completed")
    assert run["transactionTypes"] == [{"type": "Invoice Item"}]
    assert "somethingNew" not in run


def test_organization_labels_accept_an_object_or_an_array(tenant: Tenant) -> None:
    label = {"organizationId": "org-1", "organizationName": "Acme US"}
    first = tenant.completed_run(dict(NOV_2014, organizationLabels=label))
    assert tenant.run(first)["organizationLabels"] == [label]
    second = tenant.completed_run(dict(NOV_2014, organizationLabels=[label, label]))
    assert tenant.run(second)["organizationLabels"] == [label, label]
    assert category(_create(tenant, dict(NOV_2014, organizationLabels="Acme"))) == 20


# --- lifecycle ---------------------------------------------------------------------------------


def test_lifecycle_is_pending_processing_completed_with_a_delay(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(delay=0.3))
    number = tenant.create_run()
    seen: list[str] = []

    def completed() -> bool:
        status = tenant.run(number)["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == "Completed"

    wait_until(completed, 10, message=lambda: f"{number} went {seen}")
    assert seen == ["Pending", "Processing", "Completed"]
    run = tenant.run(number)
    assert run["totalJournalEntryCount"] == 10
    assert len(run["executedOn"]) == 19 and run["executedOn"][10] == " "


def test_executed_on_is_absent_before_processing(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(delay=5))
    run = tenant.run(tenant.create_run())
    assert run["status"] == "Pending" and "executedOn" not in run
    assert run["totalJournalEntryCount"] == 0


def test_with_no_delay_a_read_right_after_create_sees_completed(tenant: Tenant) -> None:
    number = tenant.create_run()
    assert tenant.run(number)["status"] == "Completed"


def test_outcome_control_ends_the_run_in_error_without_entries(tenant: Tenant) -> None:
    number = tenant.create_run(**{"X-Reference-Outcome": "Error"})
    run = tenant.wait(number, "Error")
    assert run["totalJournalEntryCount"] == 0
    # the control touched that run only
    assert tenant.run(tenant.create_run())["status"] == "Completed"


def test_only_one_run_executes_at_a_time(tenant: Tenant) -> None:
    held = tenant.create_run(**{"X-Reference-Hold": "30"})
    assert tenant.run(held)["status"] == "Processing"
    refused = _create(tenant, NOV_2014)
    assert category(refused) == 30
    assert "one journal run" in refused.json()["reasons"][0]["message"]
    # cancelling a Processing run is refused too, and the status is unchanged
    cancel = tenant.http.put(f"/v1/journal-runs/{held}/cancel", headers=MODERN)
    assert (cancel.status_code, category(cancel)) == (400, 30)
    assert tenant.run(held)["status"] == "Processing"


def test_hold_ends_and_the_run_completes(tenant: Tenant) -> None:
    number = tenant.create_run(**{"X-Reference-Hold": "0.3"})
    assert tenant.run(number)["status"] == "Processing"
    tenant.wait(number, "Completed", timeout=5)


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "99999"])
def test_invalid_control_values_are_refused(tenant: Tenant, value: str) -> None:
    assert category(_create(tenant, NOV_2014, **{"X-Reference-Hold": value})) == 20


# --- cancel ------------------------------------------------------------------------------------


def test_cancel_completed_run_cancels_every_entry_in_the_background(tenant: Tenant) -> None:
    number = tenant.completed_run()
    response = tenant.http.put(f"/v1/journal-runs/{number}/cancel")
    assert response.status_code == 200 and response.json() == {"success": True}
    tenant.wait(number, "Cancelled")
    entries = tenant.entries(number)
    assert len(entries) == 10 and {e["status"] for e in entries} == {"Cancelled"}
    assert tenant.run(number)["totalJournalEntryCount"] == 10


def test_cancel_passes_through_cancel_in_progress_when_held(tenant: Tenant) -> None:
    number = tenant.completed_run()
    response = tenant.http.put(
        f"/v1/journal-runs/{number}/cancel", headers={"X-Reference-Hold-Cancel": "0.5"}
    )
    assert response.json()["success"] is True
    assert tenant.run(number)["status"] == "CancelInprogress"
    assert {e["status"] for e in tenant.entries(number)} == {"Created"}  # not yet
    again = tenant.http.put(f"/v1/journal-runs/{number}/cancel", headers=MODERN)
    assert category(again) == 30
    delete = tenant.http.delete(f"/v1/journal-runs/{number}", headers=MODERN)
    assert category(delete) == 30
    tenant.wait(number, "Cancelled")


def test_cancel_pending_and_error_runs(
    tenant: Tenant,
    make_server: Callable[..., ReferenceServer],
    make_tenant: Callable[..., Tenant],
) -> None:
    failed = tenant.create_run(**{"X-Reference-Outcome": "Error"})
    tenant.wait(failed, "Error")
    assert tenant.http.put(f"/v1/journal-runs/{failed}/cancel").json()["success"] is True
    tenant.wait(failed, "Cancelled")

    slow = make_tenant(make_server(delay=30))
    pending = slow.create_run()
    assert slow.run(pending)["status"] == "Pending"
    assert slow.http.put(f"/v1/journal-runs/{pending}/cancel").json()["success"] is True
    assert slow.run(pending)["status"] == "CancelInprogress"


def test_jr_00000075_example_run_stays_completed(tenant: Tenant) -> None:
    """Ten entries, one transferred to accounting: nine cancelled, the run stays Completed."""
    number = tenant.completed_run()
    entries = tenant.entries(number)
    assert len(entries) == 10
    transferred = entries[3]["number"]
    update = tenant.http.put(
        f"/v1/journal-entries/{transferred}/basic-information",
        json={"transferredToAccounting": "Yes"},
    )
    assert update.json() == {"success": True}
    assert tenant.http.put(f"/v1/journal-runs/{number}/cancel").json() == {"success": True}
    run = tenant.wait(number, "Completed", "Cancelled")
    assert run["status"] == "Completed"
    after = {e["number"]: e for e in tenant.entries(number)}
    assert after[transferred]["status"] == "Created"
    assert after[transferred]["transferredToAccounting"] == "Yes"
    assert [e["status"] for n, e in after.items() if n != transferred] == ["Cancelled"] * 9
    # a Completed run cannot be deleted
    assert category(tenant.http.delete(f"/v1/journal-runs/{number}")) == 30


# --- delete ------------------------------------------------------------------------------------


def test_delete_only_from_cancelled_then_gone(tenant: Tenant) -> None:
    number = tenant.completed_run()
    refused = tenant.http.delete(f"/v1/journal-runs/{number}", headers=MODERN)
    assert (refused.status_code, reason_code(refused)) == (400, "50000030")
    assert tenant.run(number)["status"] == "Completed"
    entry_number = tenant.entries(number)[0]["number"]

    tenant.http.put(f"/v1/journal-runs/{number}/cancel")
    tenant.wait(number, "Cancelled")
    response = tenant.http.delete(f"/v1/journal-runs/{number}")
    assert response.status_code == 200 and response.json() == {"success": True}
    tenant.wait_gone(number)
    gone = tenant.http.get(f"/v1/journal-runs/{number}", headers=MODERN)
    assert (gone.status_code, reason_code(gone)) == (404, "50000040")
    # its entries went with it, and its number is not reused
    assert category(tenant.http.get(f"/v1/journal-entries/{entry_number}")) == 40
    assert tenant.create_run() == "JR-00000002"


def test_delete_passes_through_delete_in_progress(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(delay=0.3))
    number = tenant.create_run()
    tenant.wait(number, "Completed")
    tenant.http.put(f"/v1/journal-runs/{number}/cancel")
    tenant.wait(number, "Cancelled")
    tenant.http.delete(f"/v1/journal-runs/{number}")
    assert tenant.run(number)["status"] == "DeleteInprogress"
    assert category(tenant.http.put(f"/v1/journal-runs/{number}/cancel")) == 30
    tenant.wait_gone(number)


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
@pytest.mark.parametrize(
    ("number", "expected"), [("JR-1", 20), ("jr-00000001", 20), ("JR-99999999", 40)]
)
def test_run_numbers_malformed_or_unknown(
    tenant: Tenant, method: str, number: str, expected: int
) -> None:
    path = f"/v1/journal-runs/{number}" + ("/cancel" if method == "PUT" else "")
    response = tenant.http.request(method, path, headers=MODERN)
    assert response.status_code == {20: 400, 40: 404}[expected]
    assert reason_code(response) == f"500000{expected}"
