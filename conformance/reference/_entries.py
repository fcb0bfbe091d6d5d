"""The six summary-journal-entry operations: create (manual), retrieve, list a run's entries,
update basic information, cancel, delete.

Entry rules: a manual entry must balance (debits = credits); an entry cannot be cancelled while
its transfer to accounting is Yes or Processing; only a cancelled entry can be deleted; a
cancelled entry cannot change; moving transferredToAccounting away from Yes needs an override
permission nobody here has (category 10).
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from . import _lifecycle, _seed
from ._errors import ApiError, Category
from ._request import Call
from ._runs import find_run, rule
from ._settings import ReferenceSettings
from ._store import Entry
from ._validation import Fields, invalid, objects, query_int, refusal

ENTRY_NUMBER = re.compile(r"JE-\d{8}")
#: With the fault entry-numbers-unpadded: JE-1 ... JE-99999999.
UNPADDED_ENTRY_NUMBER = re.compile(r"JE-\d{1,8}")
TRANSFER_STATES = ("No", "Processing", "Yes", "Error", "Ignore")
ITEM_TYPES = ("Credit", "Debit")
DEFAULT_PAGE_SIZE = 8
#: The default page size with the fault default-page-size.
WRONG_DEFAULT_PAGE_SIZE = 10
#: Longest notes of an entry.
MAX_NOTES = 2000
MAX_PAGE_SIZE = 300
#: The vendor examples send amounts as JSON numbers although the spec declares decimal strings.
AMOUNTS_AS_NUMBERS = True


def find_entry(call: Call, number: str) -> Entry:
    pattern = ENTRY_NUMBER
    if call.settings.has_fault("entry-numbers-unpadded"):  # FAULT entry-numbers-unpadded
        pattern = UNPADDED_ENTRY_NUMBER
    if not pattern.fullmatch(number):
        raise invalid("je-number", "must be a journal entry number in the format JE-00000001")
    entry = call.store.get_entry(call.tenant, number)
    if entry is None:
        raise ApiError(Category.NOT_FOUND, f"Journal entry {number} does not exist.")
    return entry


#: Custom fields the variant vendor-nulls adds to entries and items (a tenant's own fields).
CUSTOM_FIELDS = {"Region__c": "EMEA", "CostCenter__c": None}
#: Optional fields the variant vendor-nulls shows as null when they have no value.
_NULLABLE_ENTRY = ("notes",)
_NULLABLE_ITEM = ("glAccountName", "glAccountNumber")


def _amount_out(text: str, settings: ReferenceSettings) -> float | str:
    if settings.has_variant("amounts-as-strings"):  # VARIANT amounts-as-strings
        return text
    return float(Decimal(text)) if AMOUNTS_AS_NUMBERS else text


def entry_view(entry: Entry, settings: ReferenceSettings) -> dict[str, Any]:
    view = dict(entry.doc, number=entry.number)
    view["journalEntryItems"] = [
        dict(
            item,
            amount=_amount_out(item["amount"], settings),
            homeCurrencyAmount=_amount_out(item["homeCurrencyAmount"], settings),
        )
        for item in entry.doc["journalEntryItems"]
    ]
    if settings.has_variant("vendor-nulls"):  # VARIANT vendor-nulls
        for key in _NULLABLE_ENTRY:
            view.setdefault(key, None)
        view.update(CUSTOM_FIELDS)
        for item in view["journalEntryItems"]:
            for key in _NULLABLE_ITEM:
                item.setdefault(key, None)
            item.update(CUSTOM_FIELDS)
    if settings.has_fault("amounts-with-currency"):  # FAULT amounts-with-currency
        for item in view["journalEntryItems"]:
            item["amount"] = f"{item['amount']} {entry.doc['currency']}"
            item["homeCurrencyAmount"] = f"{item['homeCurrencyAmount']} {entry.doc['homeCurrency']}"
    return dict(sorted(view.items()))


def _user_id(tenant: str) -> str:
    """The (stable, made-up) user ID of the tenant's API user, as transferredBy shows it."""
    return hashlib.sha256(f"user:{tenant}".encode()).hexdigest()[:32]


def _set_transfer(doc: dict[str, Any], state: str, call: Call) -> None:
    doc["transferredToAccounting"] = state
    always = call.settings.has_fault("transfer-fields-always")  # FAULT transfer-fields-always
    if state == "Yes" or always:
        doc["transferDateTime"] = _lifecycle.timestamp(call.now)
        doc["transferredBy"] = _user_id(call.tenant)
    else:  # both are null unless the entry is transferred
        doc["transferDateTime"] = None
        doc["transferredBy"] = None


def _rule_or_invalid(call: Call, message: str) -> ApiError:
    """A broken business rule of an entry: 30, or 20 under refusal-categories-alt (the
    decisions of JR-ENTRIES-008, -010, -011 and -015 accept both)."""
    return refusal(call.settings, Category.RULE_RESTRICTION, Category.INVALID_VALUE, message)


def _notes_limit(call: Call) -> int:
    if call.settings.has_fault("notes-unbounded"):  # FAULT notes-unbounded
        return 1 << 20
    if call.settings.has_fault("notes-1999"):  # FAULT notes-1999
        return MAX_NOTES - 1
    return MAX_NOTES


# --- create ----------------------------------------------------------------------------------


def _item(fields: Fields, currency: str) -> dict[str, Any]:
    code_name = fields.required_string("accountingCodeName", max_length=100)
    code_type = fields.choice("accountingCodeType", _seed.ACCOUNTING_CODE_TYPES)
    amount = fields.amount("amount", required=True)
    assert amount is not None
    home = fields.amount("homeCurrencyAmount")
    item_type = fields.choice("type", ITEM_TYPES, required=True)
    gl_name = fields.string("glAccountName", max_length=255)
    gl_number = fields.string("glAccountNumber", max_length=100)
    fields.string("notes", max_length=1000)
    fields.string("glString", max_length=350)
    # A code of the seeded chart fills in what the request leaves out; another code keeps only
    # what was sent (accountingCodeType is then absent rather than null: it is an enum).
    code = _seed.accounting_code(code_name)
    item: dict[str, Any] = {"accountingCodeName": code_name}
    if code_type is not None or code is not None:
        item["accountingCodeType"] = code_type or (code.type if code else None)
    item["amount"] = str(amount)
    item["homeCurrencyAmount"] = str(home if home is not None else _seed.to_home(amount, currency))
    item["glAccountName"] = gl_name or (code.gl_account_name if code else None)
    item["glAccountNumber"] = gl_number or (code.gl_account_number if code else None)
    item["type"] = item_type
    return item


def _segments(fields: Fields) -> list[dict[str, str]]:
    segments = []
    for segment in objects(fields.array("segments", max_items=100) or [], "segments"):
        segments.append(
            {
                "segmentName": segment.required_string("segmentName", max_length=100),
                "segmentValue": segment.required_string("segmentValue", max_length=255),
            }
        )
    return segments


def create_entry(call: Call) -> dict[str, Any]:
    fields = Fields(call.body)
    period_name = fields.required_string("accountingPeriodName", max_length=100)
    currency = fields.required_string("currency", max_length=3)
    journal_entry_date = fields.required_date("journalEntryDate")
    raw_items = fields.array("journalEntryItems", max_items=100, required=True)
    assert raw_items is not None
    if not raw_items:
        raise invalid("journalEntryItems", "must include at least one item")
    items = [_item(item, currency) for item in objects(raw_items, "journalEntryItems")]
    notes = fields.string("notes", max_length=_notes_limit(call))
    transaction_type = fields.required_string("transactionType", max_length=100)
    organization_label = fields.string("organizationLabel", max_length=255)
    segments = _segments(fields)
    transfer = fields.choice("transferredToAccounting", TRANSFER_STATES) or "No"

    period = _seed.period_named(period_name, call.settings.periods)
    if period is None:
        raise rule(f"Accounting period {period_name!r} does not exist.")
    if period.status != "Open":
        raise rule(f"Accounting period {period.name} is {period.status}.")
    if currency not in _seed.CURRENCIES:
        raise rule(
            f"Currency {currency!r} is not active; use one of {', '.join(_seed.CURRENCIES)}."
        )
    for side in ("amount", "homeCurrencyAmount"):
        debits = sum((Decimal(i[side]) for i in items if i["type"] == "Debit"), Decimal(0))
        credits = sum((Decimal(i[side]) for i in items if i["type"] == "Credit"), Decimal(0))
        # FAULT unbalanced-entry-accepted
        if debits != credits and not call.settings.has_fault("unbalanced-entry-accepted"):
            raise _rule_or_invalid(  # VARIANT refusal-categories-alt (30 -> 20)
                call,
                f"The journal entry does not balance: debits {debits} and credits {credits} "
                f"({side}).",
            )

    doc: dict[str, Any] = {
        "accountingPeriodName": period.name,
        "aggregateCurrency": False,
        "currency": currency,
        "homeCurrency": _seed.HOME_CURRENCY,
        "journalEntryDate": journal_entry_date.isoformat(),
        "journalEntryItems": items,
        "notes": notes,
        "organizationLabel": organization_label,
        "segments": segments,
        "status": "Created",
        "timePeriodStart": period.start.isoformat(),
        "timePeriodEnd": period.end.isoformat(),
        "transactionType": transaction_type,
    }
    _set_transfer(doc, transfer, call)
    with call.store.transaction():
        seq = call.store.next_number(call.tenant, "JE")
        number = _lifecycle.entry_number(seq, call.settings)
        call.store.save_entry(Entry(call.tenant, number, None, doc), seq=seq)
    return {"journalEntryNumber": number, "success": True}


# --- read --------------------------------------------------------------------------------------


def get_entry(call: Call) -> dict[str, Any]:
    return dict(entry_view(find_entry(call, call.params["je"]), call.settings), success=True)


def list_entries(call: Call) -> dict[str, Any]:
    default_size = DEFAULT_PAGE_SIZE
    if call.settings.has_fault("default-page-size"):  # FAULT default-page-size
        default_size = WRONG_DEFAULT_PAGE_SIZE
    lowest = 0 if call.settings.has_fault("page-zero-served") else 1  # FAULT page-zero-served
    page = max(query_int(call.query, "page", default=1, low=lowest, high=10**9), 1)
    largest = MAX_PAGE_SIZE
    if call.settings.has_fault("page-size-299"):  # FAULT page-size-299
        largest = MAX_PAGE_SIZE - 1
    if call.settings.has_fault("page-size-clamped"):  # FAULT page-size-clamped
        largest = 10**9
    size = query_int(call.query, "pageSize", default=default_size, low=1, high=largest)
    size = min(size, MAX_PAGE_SIZE) if largest > MAX_PAGE_SIZE else size
    run = find_run(call, call.params["jr"])
    offset = (page - 1) * size
    if page > 1 and call.settings.has_fault("pages-overlap"):  # FAULT pages-overlap
        offset -= 1
    entries = call.store.entries_of_run(call.tenant, run.number, offset=offset, limit=size + 1)
    answer: dict[str, Any] = {
        "journalEntries": [entry_view(entry, call.settings) for entry in entries[:size]],
        "success": True,
    }
    # FAULT next-page-always
    if len(entries) > size or call.settings.has_fault("next-page-always"):
        query = urlencode({"page": page + 1, "pageSize": size})
        path = f"/v1/journal-entries/journal-runs/{run.number}?{query}"
        # VARIANT next-page-relative: relative to the base URL
        relative = call.settings.has_variant("next-page-relative")
        answer["nextPage"] = path if relative else call.base_url + path
    elif call.settings.has_variant("next-page-null"):  # VARIANT next-page-null
        answer["nextPage"] = None
    return answer


# --- change ------------------------------------------------------------------------------------


def update_entry(call: Call) -> dict[str, Any]:
    fields = Fields(call.body)
    raw_items = fields.array("journalEntryItems", max_items=100)
    changes = []
    for item in objects(raw_items or [], "journalEntryItems"):
        changes.append(
            (
                item.string("accountingCodeName", max_length=100, required=True),
                item.choice("accountingCodeType", _seed.ACCOUNTING_CODE_TYPES),
                item.choice("type", ITEM_TYPES, required=True),
            )
        )
        item.string("notes", max_length=1000)
    # FAULT notes-not-saved
    notes_given = "notes" in call.body and not call.settings.has_fault("notes-not-saved")
    notes = fields.string("notes", max_length=_notes_limit(call))
    transfer = fields.choice("transferredToAccounting", TRANSFER_STATES)

    with call.store.transaction():
        entry = find_entry(call, call.params["je"])
        doc = entry.doc
        # FAULT cancelled-entry-changes
        if doc["status"] == "Cancelled" and not call.settings.has_fault("cancelled-entry-changes"):
            raise _rule_or_invalid(  # VARIANT refusal-categories-alt (30 -> 20)
                call, f"Journal entry {entry.number} is cancelled and can no longer change."
            )
        if transfer is not None and transfer != doc["transferredToAccounting"]:
            if doc["transferredToAccounting"] == "Yes":
                raise ApiError(
                    Category.PERMISSION_DENIED,
                    "Changing transferredToAccounting away from Yes needs the override permission.",
                )
            _set_transfer(doc, transfer, call)
        if notes_given:
            doc["notes"] = notes
        if raw_items is not None:
            items = doc["journalEntryItems"]
            if len(changes) != len(items):
                raise rule(f"journalEntryItems must list all {len(items)} items of the entry.")
            for index, (name, code_type, item_type) in enumerate(changes):
                if items[index]["type"] != item_type:
                    raise rule(f"journalEntryItems[{index}].type must stay {items[index]['type']}.")
                items[index]["accountingCodeName"] = name
                if code_type is not None:
                    items[index]["accountingCodeType"] = code_type
        call.store.save_entry(entry)
    return {"success": True}


def cancel_entry(call: Call) -> dict[str, Any]:
    with call.store.transaction():
        entry = find_entry(call, call.params["je"])
        if entry.doc["status"] == "Cancelled":
            raise rule(f"Journal entry {entry.number} is already cancelled.")
        blocked = entry.doc["transferredToAccounting"] in _lifecycle.TRANSFER_BLOCKS_CANCEL
        # FAULT cancel-transferred-entry
        if blocked and not call.settings.has_fault("cancel-transferred-entry"):
            raise _rule_or_invalid(  # VARIANT refusal-categories-alt (30 -> 20)
                call,
                f"Journal entry {entry.number} cannot be cancelled: transferredToAccounting is "
                f"{entry.doc['transferredToAccounting']}.",
            )
        entry.doc["status"] = "Cancelled"
        call.store.save_entry(entry)
    return {"success": True}


def delete_entry(call: Call) -> dict[str, Any]:
    with call.store.transaction():
        entry = find_entry(call, call.params["je"])
        cancelled = entry.doc["status"] == "Cancelled"
        # FAULT delete-uncancelled-entry
        if not cancelled and not call.settings.has_fault("delete-uncancelled-entry"):
            raise _rule_or_invalid(  # VARIANT refusal-categories-alt (30 -> 20)
                call, f"Journal entry {entry.number} must be cancelled before it is deleted."
            )
        call.store.delete_entry(call.tenant, entry.number)
    return {"success": True}
