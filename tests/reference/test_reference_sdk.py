"""Interoperability: the vendor's own Python SDK (zuora_sdk) drives the reference.

The SDK's models skip validation when they parse answers, so accepting them proves little. Each
raw answer is therefore also checked field by field against the types the SDK's models declare
(``_sdk_problems``). Known SDK quirks, noted in the report:

- the SDK sends ``Zuora-Version: 2025-08-12`` by default, so errors come with their HTTP status
  and surface as exceptions (``NotFoundException`` for a deleted run);
- item ``amount`` / ``homeCurrencyAmount`` are declared strings, but the vendor's examples (and
  the reference) send JSON numbers; the spec accepts both;
- ``pageSize`` is capped at 40 by the SDK, at 300 by the API.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import types
import warnings
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError
from reference_support import Tenant

from conformance.reference import ReferenceServer

zuora_sdk = pytest.importorskip("zuora_sdk")
from zuora_sdk import (  # noqa: E402
    ApiClient,
    CommonResponse,
    Configuration,
    CreateJournalEntryRequest,
    CreateJournalEntryRequestItem,
    CreateJournalRunRequest,
    CreateJournalRunRequestTransactionType,
    GetJournalEntriesInJournalRunResponse,
    GetJournalEntryDetailResponse,
    GetJournalRunResponse,
    JournalRunsApi,
    JournalRunTransactionType,
    SummaryJournalEntriesApi,
    UpdateBasicSummaryJournalEntryRequest,
)
from zuora_sdk.exceptions import NotFoundException  # noqa: E402

#: Declared types the vendor's own examples contradict (see the module docstring).
KNOWN_QUIRKS = {"amount", "homeCurrencyAmount"}


def _value_problems(annotation: Any, value: Any, where: str) -> list[str]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        if value is None:
            return [] if len(options) < len(get_args(annotation)) else [f"{where}: null"]
        annotation = options[0] if len(options) == 1 else annotation
        origin = get_origin(annotation)
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        (item,) = get_args(annotation)
        return [p for i, v in enumerate(value) for p in _value_problems(item, v, f"{where}[{i}]")]
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        return _sdk_problems(annotation, value, f"{where}.")
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError as error:
        return [f"{where}: {error.errors()[0]['msg']}"]
    return []


def _sdk_problems(model: type[BaseModel], data: dict[str, Any], where: str = "") -> list[str]:
    """Where ``data`` breaks the field types the SDK model declares (known quirks aside)."""
    problems = []
    for name, field in model.model_fields.items():
        alias = field.alias or name
        if alias in data and alias not in KNOWN_QUIRKS:
            problems += _value_problems(field.annotation, data[alias], f"{where}{alias}")
    return problems


@pytest.fixture
def sdk(tenant: Tenant) -> Iterator[tuple[JournalRunsApi, SummaryJournalEntriesApi]]:
    with (
        warnings.catch_warnings(),
        ApiClient(Configuration(host=tenant.url, access_token=tenant.token)) as client,
    ):
        warnings.simplefilter("ignore")  # pydantic serializer chatter inside the SDK
        yield JournalRunsApi(client), SummaryJournalEntriesApi(client)


def _raw(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The raw JSON of an SDK call (``*_with_http_info``), after checking its headers."""
    response = call(*args, **kwargs)
    assert response.status_code == 200
    assert len(response.zuora_request_id) == 36
    assert response.rate_limit_limit == "10000" and response.rate_limit_remaining > 0
    assert response.concurrency_limit_type == "Default"
    assert response.concurrency_limit_limit == 40 and response.concurrency_limit_remaining == 39
    body: dict[str, Any] = json.loads(response.raw_data)
    return body


def test_the_vendor_sdk_runs_the_whole_flow(
    sdk: tuple[JournalRunsApi, SummaryJournalEntriesApi], tenant: Tenant, server: ReferenceServer
) -> None:
    runs, entries = sdk
    request = CreateJournalRunRequest(
        accounting_period_name="Nov-2014",
        journal_entry_date=dt.date(2014, 11, 4),
        transaction_types=[
            CreateJournalRunRequestTransactionType(type=JournalRunTransactionType.INVOICE_ITEM),
            CreateJournalRunRequestTransactionType(type=JournalRunTransactionType.TAXATION_ITEM),
            CreateJournalRunRequestTransactionType(
                type=JournalRunTransactionType.ELECTRONIC_PAYMENT
            ),
        ],
    )
    created = runs.create_journal_run(request, zuora_track_id="sdk-flow")
    assert created.success is True and created.journal_run_number == "JR-00000001"
    number = created.journal_run_number

    run = runs.get_journal_run(number)
    assert isinstance(run, GetJournalRunResponse)
    assert run.status == "Completed" and run.total_journal_entry_count == 10
    raw_run = _raw(runs.get_journal_run_with_http_info, number)
    assert _sdk_problems(GetJournalRunResponse, raw_run) == []

    page = entries.get_all_summary_journal_entries(number, page=1, page_size=40)
    assert isinstance(page, GetJournalEntriesInJournalRunResponse)
    assert len(page.journal_entries) == 10 and page.next_page is None
    raw_page = _raw(entries.get_all_summary_journal_entries_with_http_info, number, page_size=4)
    assert _sdk_problems(GetJournalEntriesInJournalRunResponse, raw_page) == []
    assert raw_page["nextPage"].endswith("page=2&pageSize=4")

    first = page.journal_entries[0].number
    entry = entries.get_summary_journal_entry(first)
    assert entry.number == first and entry.status == "Created"
    raw_entry = _raw(entries.get_summary_journal_entry_with_http_info, first)
    assert _sdk_problems(GetJournalEntryDetailResponse, raw_entry) == []

    update = UpdateBasicSummaryJournalEntryRequest(
        notes="via the SDK", transferred_to_accounting="Yes"
    )
    assert entries.update_basic_summary_journal_entry(first, update).success is True
    assert entries.get_summary_journal_entry(first).transferred_to_accounting == "Yes"

    cancelled = runs.cancel_journal_run(number)
    assert isinstance(cancelled, CommonResponse) and cancelled.success is True
    run = tenant.wait(number, "Completed", "Cancelled")
    assert run["status"] == "Completed"  # the transferred entry kept the run Completed (JR-75)

    # undo the transfer is refused (403); cancel the rest one by one is not possible either
    second = page.journal_entries[1].number
    assert entries.get_summary_journal_entry(second).status == "Cancelled"
    assert entries.delete_summary_journal_entry(second).success is True
    with pytest.raises(NotFoundException):
        entries.get_summary_journal_entry(second)


def test_the_sdk_creates_cancels_and_deletes_a_manual_entry(
    sdk: tuple[JournalRunsApi, SummaryJournalEntriesApi],
) -> None:
    _, entries = sdk
    request = CreateJournalEntryRequest(
        accounting_period_name="Nov-2014",
        currency="USD",
        journal_entry_date=dt.date(2014, 11, 4),
        transaction_type="Invoice Item",
        journal_entry_items=[
            CreateJournalEntryRequestItem(
                accounting_code_name="Cash", amount="25.50", type="Debit"
            ),
            CreateJournalEntryRequestItem(
                accounting_code_name="Accounts Receivable", amount="25.50", type="Credit"
            ),
        ],
    )
    created = entries.create_summary_journal_entry(request, idempotency_key="sdk-manual")
    assert created.success is True
    number = created.journal_entry_number
    again = entries.create_summary_journal_entry(request, idempotency_key="sdk-manual")
    assert again.journal_entry_number == number  # replayed, not created twice
    assert entries.cancel_summary_journal_entry(number).success is True
    assert entries.delete_summary_journal_entry(number).success is True
    with pytest.raises(NotFoundException):
        entries.get_summary_journal_entry(number)


def test_the_sdk_deletes_a_cancelled_run_and_then_cannot_find_it(
    sdk: tuple[JournalRunsApi, SummaryJournalEntriesApi], tenant: Tenant
) -> None:
    runs, _ = sdk
    number = tenant.completed_run()
    assert runs.cancel_journal_run(number).success is True
    tenant.wait(number, "Cancelled")
    assert runs.delete_journal_run(number).success is True
    tenant.wait_gone(number)
    with pytest.raises(NotFoundException) as caught:
        runs.get_journal_run(number)
    body = json.loads(caught.value.body)
    assert _sdk_problems(CommonResponse, body) == []
    assert body["reasons"][0]["code"] == "50000040"


def test_the_checker_notices_a_wrong_type() -> None:
    assert _sdk_problems(GetJournalRunResponse, {"status": "Finished"})
    assert _sdk_problems(GetJournalRunResponse, {"totalJournalEntryCount": "ten"})
    assert _sdk_problems(GetJournalRunResponse, {"transactionTypes": [{"type": "Sale"}]})
    assert _sdk_problems(GetJournalRunResponse, {"status": "Completed"}) == []
