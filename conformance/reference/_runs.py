"""The four journal-run operations: create, retrieve, cancel, delete.

Create validates in the documents' order: the body's shape (20/22), then the period or the target
dates (30 for a broken rule), then "one run at a time" (30). What happens after the answer is the
business of ``_lifecycle``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from . import _lifecycle, _seed
from ._errors import ApiError, Category
from ._request import Call
from ._settings import ReferenceSettings
from ._store import Run
from ._validation import Fields, alt_category, invalid, missing, objects, recategorised, refusal

RUN_NUMBER = re.compile(r"JR-\d{8}")
#: With the fault run-numbers-unpadded: JR-1 ... JR-99999999.
UNPADDED_RUN_NUMBER = re.compile(r"JR-\d{1,8}")
#: The body fields of a create; any other is ignored (or refused, with unknown-field-refused).
CREATE_FIELDS = frozenset(
    {
        "accountingPeriodName",
        "journalEntryDate",
        "organizationLabels",
        "targetEndDate",
        "targetStartDate",
        "transactionTypes",
    }
)

#: Scenario controls, honoured only on the operation they name (capability reference-controls).
OUTCOME_HEADER = "x-reference-outcome"
HOLD_HEADER = "x-reference-hold"
HOLD_CANCEL_HEADER = "x-reference-hold-cancel"
_MAX_HOLD = 3600.0


RULE = Category.RULE_RESTRICTION


def rule(message: str) -> ApiError:
    return ApiError(Category.RULE_RESTRICTION, message)


def find_run(call: Call, number: str) -> Run:
    """The caller's run, 20 for a malformed number, 40 for an unknown one."""
    if call.settings.has_fault("lenient-run-numbers"):  # FAULT lenient-run-numbers
        number = number.strip().upper()
    pattern = RUN_NUMBER
    if call.settings.has_fault("run-numbers-unpadded"):  # FAULT run-numbers-unpadded
        pattern = UNPADDED_RUN_NUMBER
    if not pattern.fullmatch(number):
        error = invalid("jr-number", "must be a journal run number in the format JR-00000001")
        # VARIANT refusal-categories-alt: a malformed number is one that does not exist (20 -> 40)
        raise recategorised(error, call.settings, {Category.INVALID_VALUE: Category.NOT_FOUND})
    run = call.store.get_run(call.tenant, number)
    if run is None:
        raise ApiError(Category.NOT_FOUND, f"Journal run {number} does not exist.")
    return run


def _hold(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= _MAX_HOLD:  # also rejects NaN
        raise invalid(f"Header {name}", f"must be a number of seconds from 0 to {_MAX_HOLD:g}")
    return seconds


def _transaction_types(fields: Fields, settings: ReferenceSettings) -> list[str]:
    items = fields.array("transactionTypes", max_items=100, required=True)
    assert items is not None
    # FAULT empty-transaction-types
    if not items and not settings.has_fault("empty-transaction-types"):
        raise invalid("transactionTypes", "must include at least one transaction type")
    chosen: list[str] = []
    for item in objects(items, "transactionTypes"):
        if settings.has_fault("unknown-transaction-type"):  # FAULT unknown-transaction-type
            name = item.string("type", max_length=200, required=True)
        else:
            name = item.choice("type", _seed.TRANSACTION_TYPES, required=True)
        assert name is not None
        if name not in chosen:  # a repeated type adds nothing
            chosen.append(name)
    return chosen


def _organization_labels(fields: Fields) -> list[Any]:
    """The 2026 spec sends one object, the 2023 spec an array of them; both are kept as a list."""
    value = fields.raw("organizationLabels")
    if value is None:
        return []
    labels = value if isinstance(value, list) else [value]
    for label in objects(labels, "organizationLabels"):
        label.string("organizationId", max_length=64)
        label.string("organizationName", max_length=255)
    return labels


def _period_and_dates(
    fields: Fields, types: list[str], settings: ReferenceSettings
) -> tuple[str | None, _seed.AccountingPeriod, dt.date, dt.date]:
    """(accountingPeriodName as given, the period, target start, target end) or a rejection."""
    name = fields.string("accountingPeriodName", max_length=100)
    start = fields.date("targetStartDate")
    end = fields.date("targetEndDate")
    # VARIANT refusal-categories-alt: a missing field is a missing parameter (22 -> 23)
    missing_alt = {Category.MISSING_FIELD: Category.MISSING_PARAMETER}
    # FAULT end-date-without-start
    if end is not None and start is None and not settings.has_fault("end-date-without-start"):
        raise recategorised(
            missing("targetStartDate (required with targetEndDate)"), settings, missing_alt
        )
    # The earliest allowed target date bounds the range a run summarises: targetStartDate,
    # targetEndDate, and the start of the period an accountingPeriodName names. It is not a
    # bound on journalEntryDate (the date the entries are posted on, not a target date).
    earliest = settings.earliest
    if settings.has_fault("earliest-date-ignored"):  # FAULT earliest-date-ignored
        earliest = None
    if earliest is not None:
        # FAULT earliest-date-exclusive: the earliest date itself counts as too early
        exclusive = settings.has_fault("earliest-date-exclusive")
        for key, given in (("targetStartDate", start), ("targetEndDate", end)):
            if given is not None and (given < earliest or (exclusive and given == earliest)):
                raise too_early(key, given, earliest, settings)
    if name is not None:
        period = _seed.period_named(name, settings.periods)
        if period is None:
            # VARIANT refusal-categories-alt: an unknown period name is not found (30 -> 40)
            raise refusal(
                settings, RULE, Category.NOT_FOUND, f"Accounting period {name!r} does not exist."
            )
        if earliest is not None and period.start < earliest:
            error = invalid(
                "accountingPeriodName",
                f"names {name}, which starts on {period.start}, before the earliest allowed "
                f"target date {earliest}",
            )
            # VARIANT refusal-categories-alt: too early breaks a rule (20 -> 30)
            raise recategorised(error, settings, {Category.INVALID_VALUE: RULE})
        if settings.has_fault("period-dates-ignored"):  # FAULT period-dates-ignored
            start = end = None
        # VARIANT refusal-categories-alt: a date unlike the period's is an invalid value (30 -> 20)
        if start is not None and start != period.start:
            raise refusal(
                settings,
                RULE,
                Category.INVALID_VALUE,
                f"targetStartDate must be empty or {period.start} (the start of {name}).",
            )
        if end is not None and end != period.end:
            raise refusal(
                settings,
                RULE,
                Category.INVALID_VALUE,
                f"targetEndDate must be empty or {period.end} (the end of {name}).",
            )
    elif (start is None or end is None) and settings.has_fault("period-optional"):
        # FAULT period-optional: the period of the start date, else the current one
        anchor = start or dt.date.today()
        found = _seed.period_containing(anchor, anchor, settings.periods)
        if found is None:
            raise rule("There is no accounting period for this date.")
        period, start, end = found, None, None
    else:
        if start is None or end is None:
            error = missing(
                "accountingPeriodName (required unless targetStartDate and targetEndDate)"
            )
            raise recategorised(error, settings, missing_alt)  # VARIANT refusal-categories-alt
        # VARIANT refusal-categories-alt: a range outside one period is an invalid value (30 -> 20)
        if end < start:
            raise refusal(
                settings,
                RULE,
                Category.INVALID_VALUE,
                "targetEndDate must not be before targetStartDate.",
            )
        found = _seed.period_containing(start, end, settings.periods)
        if found is None and settings.has_fault("range-across-periods"):
            # FAULT range-across-periods: the period of the start date, the range cut to it
            found = _seed.period_containing(start, start, settings.periods)
            end = min(end, found.end) if found is not None else end
        if found is None:
            raise refusal(
                settings,
                RULE,
                Category.INVALID_VALUE,
                "The target date range must fall within one accounting period.",
            )
        period = found
        only_with_period = [t for t in types if t in _seed.PERIOD_ONLY_TYPES]
        # FAULT revenue-event-item-with-dates
        if only_with_period and not settings.has_fault("revenue-event-item-with-dates"):
            raise refusal(  # VARIANT refusal-categories-alt (30 -> 20)
                settings,
                RULE,
                Category.INVALID_VALUE,
                f"{only_with_period[0]} can be used only with accountingPeriodName.",
            )
    if period.status != "Open":
        raise rule(f"Accounting period {period.name} is {period.status}.")
    return name, period, start or period.start, end or period.end


def too_early(key: str, given: dt.date, earliest: dt.date, settings: ReferenceSettings) -> ApiError:
    error = invalid(key, f"{given} is before the earliest allowed target date {earliest}")
    # VARIANT refusal-categories-alt: too early breaks a rule (20 -> 30)
    return recategorised(error, settings, {Category.INVALID_VALUE: RULE})


def list_periods(call: Call) -> dict[str, Any]:
    """``GET /v1/accounting-periods``: the tenant's periods, oldest first."""
    return {
        "accountingPeriods": [
            {
                "id": _seed.period_id(period.name),
                "name": period.name,
                "startDate": period.start.isoformat(),
                "endDate": period.end.isoformat(),
                "status": period.status,
                "fiscalYear": period.start.year,
            }
            for period in _seed.monthly_periods(*call.settings.periods)
        ],
        "success": True,
    }


def create_run(call: Call) -> dict[str, Any]:
    settings = call.settings
    if settings.has_fault("unknown-field-refused"):  # FAULT unknown-field-refused
        unknown = sorted(set(call.body) - CREATE_FIELDS)
        if unknown:
            raise ApiError(Category.UNKNOWN_FIELD, f"Unknown field: {unknown[0][:100]}.")
    fields = Fields(call.body)
    # VARIANT refusal-categories-alt: a missing journalEntryDate or transactionTypes is an
    # invalid value (22 -> 20), an empty list or an unknown type a missing field (20 -> 22)
    try:
        if settings.has_fault("entry-date-optional"):  # FAULT entry-date-optional
            given_date = fields.date("journalEntryDate")
        else:
            given_date = fields.required_date("journalEntryDate")
    except ApiError as error:
        raise recategorised(
            error, settings, {Category.MISSING_FIELD: Category.INVALID_VALUE}
        ) from None
    try:
        types = _transaction_types(fields, settings)
    except ApiError as error:
        swap = {
            Category.MISSING_FIELD: Category.INVALID_VALUE,
            Category.INVALID_VALUE: Category.MISSING_FIELD,
        }
        raise recategorised(error, settings, swap) from None
    labels = _organization_labels(fields)
    name, period, start, end = _period_and_dates(fields, types, settings)
    journal_entry_date = given_date or period.start
    outcome = "Error" if call.headers.get(OUTCOME_HEADER, "").strip().lower() == "error" else ""
    hold = _hold(call.headers, HOLD_HEADER)

    with call.store.transaction():
        executing = call.store.count_runs(call.tenant, _lifecycle.EXECUTING)
        if executing and not settings.has_fault("concurrent-runs"):  # FAULT concurrent-runs
            raise refusal(  # VARIANT refusal-categories-alt: a locking contention (30 -> 50)
                settings,
                RULE,
                Category.LOCKING_CONTENTION,
                "Another journal run is pending or processing; only one journal run can be "
                "executed at a time.",
            )
        number = _lifecycle.run_number(call.store.next_number(call.tenant, "JR"), settings)
        call.store.save_run(
            Run(
                tenant=call.tenant,
                number=number,
                status="Pending",
                accounting_period_name=name,
                period_name=period.name,
                journal_entry_date=journal_entry_date.isoformat(),
                target_start_date=start.isoformat(),
                target_end_date=end.isoformat(),
                transaction_types=types,
                organization_labels=labels,
                executed_on=None,
                outcome=outcome or "Completed",
                hold_processing=hold,
                status_before_cancel=None,
                due_at=call.now + _lifecycle.step_delay(call.settings),
            )
        )
    if settings.has_fault("create-number-field"):  # FAULT create-number-field
        return {"number": number, "success": True}
    return {"journalRunNumber": number, "success": True}


#: How the fault status-spelling spells two of the seven statuses.
_MISSPELLED = {"CancelInprogress": "CancelInProgress", "DeleteInprogress": "DeleteInProgress"}


def run_view(call: Call, run: Run) -> dict[str, Any]:
    settings = call.settings
    view: dict[str, Any] = {
        "aggregateCurrency": False,
        "journalEntryDate": run.journal_entry_date,
        "number": run.number,
        "organizationLabels": run.organization_labels,
        "segmentationRuleName": _seed.SEGMENTATION_RULE_NAME,
        "status": run.status,
        "success": True,
        "targetEndDate": run.target_end_date,
        "targetStartDate": run.target_start_date,
        "totalJournalEntryCount": call.store.count_entries(call.tenant, run.number),
        "transactionTypes": [{"type": name} for name in run.transaction_types],
    }
    if run.executed_on is not None:  # absent until the run starts processing
        view["executedOn"] = run.executed_on
        when = dt.datetime.strptime(run.executed_on, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        if settings.has_variant("executed-on-rfc3339"):  # VARIANT executed-on-rfc3339
            view["executedOn"] = when.isoformat().replace("+00:00", "Z")
        if settings.has_fault("executed-on-epoch"):  # FAULT executed-on-epoch
            view["executedOn"] = int(when.timestamp())
    elif settings.has_variant("vendor-nulls"):  # VARIANT vendor-nulls: null, not absent
        view["executedOn"] = None
    if settings.has_fault("status-spelling"):  # FAULT status-spelling
        view["status"] = _MISSPELLED.get(run.status, run.status)
    if settings.has_fault("number-field-renamed"):  # FAULT number-field-renamed
        view["journalRunNumber"] = view.pop("number")
    if settings.has_variant("transaction-types-reordered"):  # VARIANT transaction-types-reordered
        view["transactionTypes"].reverse()
    if settings.has_fault("transaction-types-truncated"):  # FAULT transaction-types-truncated
        view["transactionTypes"] = view["transactionTypes"][:1]
    return dict(sorted(view.items()))


#: Statuses in which a refused cancel (JR-CANCEL-002) or delete (JR-DELETE-002) may be a locking
#: contention (category 50) by the decisions.
CANCEL_BUSY = ("CancelInprogress", "Processing")
DELETE_BUSY = ("CancelInprogress",)


def _refused(call: Call, run: Run, busy: tuple[str, ...], message: str) -> ApiError:
    """A refused cancel or delete of ``run``: 30, or 50 (locking contention) under
    refusal-categories-alt while the run is in one of ``busy``."""
    contention = run.status in busy and alt_category(
        call.settings
    )  # VARIANT refusal-categories-alt
    return ApiError(Category.LOCKING_CONTENTION if contention else RULE, message)


def get_run(call: Call) -> dict[str, Any]:
    return run_view(call, find_run(call, call.params["jr"]))


def cancel_run(call: Call) -> dict[str, Any]:
    hold = _hold(call.headers, HOLD_CANCEL_HEADER)
    with call.store.transaction():
        run = find_run(call, call.params["jr"])
        if run.status not in _lifecycle.cancellable_statuses(call.settings):
            raise _refused(
                call,
                run,
                CANCEL_BUSY,
                f"Journal run {run.number} is {run.status}; only a Pending, Error or Completed "
                "journal run can be cancelled.",
            )
        if call.settings.has_fault("cancel-synchronous"):  # FAULT cancel-synchronous
            return _cancel_now(call, run)
        _lifecycle.start_cancel(run, call.now, hold, call.settings)
        call.store.save_run(run)
    return {"success": True}


def _cancel_now(call: Call, run: Run) -> dict[str, Any]:
    """The fault cancel-synchronous: refuse when an entry cannot be cancelled, else cancel the
    entries and the run before answering."""
    for entry in call.store.entries_of_run(call.tenant, run.number):
        if entry.doc["transferredToAccounting"] in _lifecycle.TRANSFER_BLOCKS_CANCEL:
            raise rule(f"Journal entry {entry.number} cannot be cancelled.")
    _lifecycle.cancel_entries(call.store, call.settings, run)
    run.status, run.due_at = "Cancelled", None
    call.store.save_run(run)
    return {"success": True}


def delete_run(call: Call) -> dict[str, Any]:
    with call.store.transaction():
        run = find_run(call, call.params["jr"])
        if run.status not in _lifecycle.deletable_statuses(call.settings):
            raise _refused(
                call,
                run,
                DELETE_BUSY,
                f"Journal run {run.number} is {run.status}; only a Cancelled journal run can be "
                "deleted.",
            )
        _lifecycle.start_delete(run, call.now, call.settings)
        call.store.save_run(run)
    return {"success": True}
