"""Every deliberate deviation the reference server can be told to make, declared in one table.

A fault turns the faithful reference into a known-broken implementation, so the suite can prove
that it notices (``selftest``). Each fault names the requirement IDs it breaks; the code that
deviates checks ``settings.has_fault(NAME)`` at one clearly marked point (grep ``FAULT``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ConfigError


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    #: The requirement IDs (``spec/requirements.yaml``) a suite must report as failed.
    breaks: tuple[str, ...]
    #: Other ``ReferenceSettings`` the fault needs to show (tenant data such as an earliest
    #: target date); the self-test starts the faulty reference with them.
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    #: What the suite must be told about the target to judge it (``load_config`` flags, e.g.
    #: the earliest target date), for the same reason.
    flags: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


_ALL: tuple[Fault, ...] = (
    # -- create -------------------------------------------------------------------------------
    Fault(
        "create-number-field",
        "A create answers the new run's number in the field number instead of journalRunNumber.",
        breaks=("JR-CREATE-001",),
    ),
    Fault(
        "run-numbers-unpadded",
        "Journal run numbers are not zero-padded (JR-75, not JR-00000075).",
        breaks=("JR-CREATE-002",),
    ),
    Fault(
        "entry-date-optional",
        "A create without journalEntryDate is accepted (the period's first day is used).",
        breaks=("JR-CREATE-003",),
    ),
    Fault(
        "empty-transaction-types",
        "A create with an empty transactionTypes list is accepted (the run completes empty).",
        breaks=("JR-CREATE-004",),
    ),
    Fault(
        "unknown-transaction-type",
        "A create naming an undocumented transaction type is accepted.",
        breaks=("JR-CREATE-004",),
    ),
    Fault(
        "period-optional",
        "A create with neither accountingPeriodName nor both target dates is accepted (the "
        "period of the start date, or the current one, is used).",
        breaks=("JR-CREATE-005",),
    ),
    Fault(
        "end-date-without-start",
        "targetEndDate is accepted without targetStartDate.",
        breaks=("JR-CREATE-006",),
    ),
    Fault(
        "period-dates-ignored",
        "With accountingPeriodName, target dates that differ from the period are accepted "
        "(and ignored).",
        breaks=("JR-CREATE-007",),
    ),
    Fault(
        "range-across-periods",
        "A target date range spanning two accounting periods is accepted.",
        breaks=("JR-CREATE-008",),
    ),
    Fault(
        "revenue-event-item-with-dates",
        "Revenue Event Item is accepted with a target date range.",
        breaks=("JR-CREATE-009",),
    ),
    Fault(
        "earliest-date-ignored",
        "Target dates before the tenant's earliest allowed target date are accepted.",
        breaks=("JR-CREATE-010",),
        settings={"earliest_date": "2015-01-01"},
        flags={"earliest_date": "2015-01-01"},
    ),
    Fault(
        "earliest-date-exclusive",
        "The earliest allowed target date itself is refused (the bound is exclusive).",
        breaks=("JR-CREATE-010",),
        settings={"earliest_date": "2015-01-01"},
        flags={"earliest_date": "2015-01-01"},
    ),
    Fault(
        "concurrent-runs",
        "A create is accepted while another run of the tenant is Pending or Processing.",
        breaks=("JR-CREATE-011",),
    ),
    Fault(
        "unknown-field-refused",
        "A create with a body field the operation does not know is refused (category 21).",
        breaks=("JR-CREATE-012",),
    ),
    # -- retrieve -----------------------------------------------------------------------------
    Fault(
        "status-spelling",
        "Statuses are spelled differently: CancelInProgress and DeleteInProgress.",
        breaks=("JR-RETRIEVE-003",),
    ),
    Fault(
        "number-field-renamed",
        "A retrieved run carries its number in journalRunNumber instead of number.",
        breaks=("JR-RETRIEVE-002",),
    ),
    Fault(
        "transaction-types-truncated",
        "A retrieved run shows only the first of its transaction types.",
        breaks=("JR-RETRIEVE-004",),
    ),
    Fault(
        "executed-on-epoch",
        "executedOn is a number (seconds since 1970), not a date-time string.",
        breaks=("JR-RETRIEVE-005",),
    ),
    Fault(
        "lenient-run-numbers",
        "Run numbers are trimmed and upper-cased before they are checked, so ' JR-00000001 ' "
        "or 'jr-00000001' is served as JR-00000001 instead of being refused.",
        breaks=("JR-RETRIEVE-007",),
    ),
    # -- cancel -------------------------------------------------------------------------------
    Fault(
        "cancel-answers-204",
        "An accepted run cancel answers HTTP 204 with no body.",
        breaks=("JR-CANCEL-001",),
    ),
    Fault(
        "cancel-error-refused",
        "A run in Error cannot be cancelled.",
        breaks=("JR-CANCEL-001",),
    ),
    Fault(
        "cancel-from-processing",
        "A cancel is accepted while the run is Processing.",
        breaks=("JR-CANCEL-002",),
    ),
    Fault(
        "cancel-from-cancelled",
        "A cancel is accepted for a run that is already Cancelled.",
        breaks=("JR-CANCEL-002",),
    ),
    Fault(
        "entries-never-cancelled",
        "A cancelled run becomes Cancelled but its entries are never cancelled.",
        breaks=("JR-CANCEL-004",),
    ),
    Fault(
        "cancel-synchronous",
        "The cancel is done synchronously and answers success false when an entry cannot be "
        "cancelled (transferred to accounting).",
        breaks=("JR-CANCEL-006",),
    ),
    Fault(
        "cancel-ignores-transfer",
        "The background cancel also cancels entries transferred to accounting.",
        breaks=("JR-CANCEL-007",),
    ),
    Fault(
        "cancel-stops-at-refusal",
        "The background cancel stops at the first entry that cannot be cancelled.",
        breaks=("JR-CANCEL-008",),
    ),
    Fault(
        "partial-cancel-becomes-cancelled",
        "A run becomes Cancelled although one of its entries (transferred to accounting) was "
        "not cancelled.",
        breaks=("JR-CANCEL-009",),
    ),
    # -- delete -------------------------------------------------------------------------------
    Fault(
        "delete-answers-204",
        "An accepted run delete answers HTTP 204 with no body.",
        breaks=("JR-DELETE-001",),
    ),
    Fault(
        "delete-completed",
        "DELETE /v1/journal-runs/{jr} is accepted for a Completed run, not only a Cancelled one.",
        breaks=("JR-DELETE-002",),
    ),
    Fault(
        "deleted-run-readable",
        "A deleted run stays readable, with status Deleted, instead of being not found.",
        breaks=("JR-DELETE-003",),
    ),
    # -- entries ------------------------------------------------------------------------------
    Fault(
        "default-page-size",
        "The entry list's default page size is 10, not 8.",
        breaks=("JR-ENTRIES-002",),
    ),
    Fault(
        "page-size-299",
        "pageSize 300 is refused: the largest page size is 299.",
        breaks=("JR-ENTRIES-002",),
    ),
    Fault(
        "page-size-clamped",
        "A pageSize over 300 is served as 300 instead of refused.",
        breaks=("JR-ENTRIES-004",),
    ),
    Fault(
        "page-zero-served",
        "page 0 (or below) is served as page 1 instead of refused.",
        breaks=("JR-ENTRIES-004",),
    ),
    Fault(
        "pages-overlap",
        "Each page after the first repeats the last entry of the page before it.",
        breaks=("JR-ENTRIES-002",),
    ),
    Fault(
        "next-page-always",
        "nextPage is given on the last page too.",
        breaks=("JR-ENTRIES-003",),
    ),
    Fault(
        "entry-numbers-unpadded",
        "Journal entry numbers are not zero-padded (JE-12, not JE-00000012).",
        breaks=("JR-ENTRIES-006",),
    ),
    Fault(
        "unbalanced-entry-accepted",
        "A manual entry whose debits and credits differ is accepted.",
        breaks=("JR-ENTRIES-008",),
    ),
    Fault(
        "cancel-transferred-entry",
        "An entry is cancelled although its transferredToAccounting is Yes or Processing.",
        breaks=("JR-ENTRIES-010",),
    ),
    Fault(
        "delete-uncancelled-entry",
        "An entry that is not cancelled can be deleted.",
        breaks=("JR-ENTRIES-011",),
    ),
    Fault(
        "notes-not-saved",
        "Updating an entry's notes answers success true but the notes do not change.",
        breaks=("JR-ENTRIES-013",),
    ),
    Fault(
        "notes-unbounded",
        "Entry notes longer than 2000 characters are accepted.",
        breaks=("JR-ENTRIES-014",),
    ),
    Fault(
        "notes-1999",
        "Entry notes of exactly 2000 characters are refused: the limit is 1999.",
        breaks=("JR-ENTRIES-007", "JR-ENTRIES-013"),
    ),
    Fault(
        "cancelled-entry-changes",
        "transferredToAccounting can still change after the entry is cancelled.",
        breaks=("JR-ENTRIES-015",),
    ),
    Fault(
        "transfer-fields-always",
        "transferDateTime and transferredBy are filled in whatever transferredToAccounting is.",
        breaks=("JR-ENTRIES-017",),
    ),
    Fault(
        "amounts-with-currency",
        "Entry item amounts are strings with the currency appended ('100.50 USD').",
        breaks=("JR-ENTRIES-018",),
    ),
    # -- headers ------------------------------------------------------------------------------
    Fault(
        "track-id-not-echoed",
        "Zuora-Track-Id is never echoed back.",
        breaks=("JR-HEADERS-001",),
    ),
    Fault(
        "track-id-not-validated",
        "Any Zuora-Track-Id is accepted and echoed, even one that is too long or contains "
        ": ; \" or '.",
        breaks=("JR-HEADERS-002", "JR-HEADERS-003"),
    ),
    Fault(
        "track-id-63",
        "A Zuora-Track-Id of exactly 64 characters is treated as invalid (refused, not echoed).",
        breaks=("JR-HEADERS-001",),
    ),
    Fault(
        "gzip-responses-off",
        "Responses are never compressed, whatever Accept-Encoding says.",
        breaks=("JR-HEADERS-004",),
    ),
    Fault(
        "gzip-over-2000",
        "Responses are gzip-compressed only from 2000 bytes, so one of 1001 to 1999 bytes comes "
        "plain although the client accepts gzip.",
        breaks=("JR-HEADERS-004",),
    ),
    Fault(
        "gzip-always",
        "Responses over 1000 bytes are gzip-compressed even when the request did not accept gzip.",
        breaks=("JR-HEADERS-005",),
    ),
    Fault(
        "gzip-request-ignored",
        "Content-Encoding: gzip on a request is ignored: the compressed bytes are parsed as JSON.",
        breaks=("JR-HEADERS-006",),
    ),
    Fault(
        "request-id-hex",
        "Zuora-Request-Id is 32 hex digits (a UUID without dashes), not 36 characters.",
        breaks=("JR-HEADERS-007",),
    ),
    Fault(
        "rate-limit-headers-missing",
        "Responses carry no RateLimit-* headers.",
        breaks=("JR-HEADERS-008",),
    ),
    Fault(
        "errors-as-text",
        "Error answers say Content-Type text/plain (the body is still the JSON envelope).",
        breaks=("JR-HEADERS-010",),
    ),
    Fault(
        "idempotency-replay-executes",
        "A POST repeated with the same Idempotency-Key is executed again (a second run is "
        "created) instead of replaying the first answer.",
        breaks=("JR-HEADERS-011",),
    ),
    Fault(
        "idempotency-key-254",
        "An Idempotency-Key of exactly 255 characters is refused with category 20.",
        breaks=("JR-HEADERS-011",),
    ),
    Fault(
        "idempotency-key-unbounded",
        "An Idempotency-Key of any length is accepted (and honoured).",
        breaks=("JR-HEADERS-015",),
    ),
    Fault(
        "idempotency-key-any-request",
        "An Idempotency-Key reused for another URL replays the first answer instead of 422.",
        breaks=("JR-HEADERS-014",),
    ),
    # -- auth ---------------------------------------------------------------------------------
    Fault(
        "anonymous-access",
        "A request without Authorization is served (as an anonymous tenant).",
        breaks=("JR-AUTH-001",),
    ),
    Fault(
        "any-token-accepted",
        "Any bearer token is accepted: an unknown one becomes a tenant of its own.",
        breaks=("JR-AUTH-001",),
    ),
    Fault(
        "auth-category-10",
        "Authentication failures carry category 10 (permission denied) instead of 11.",
        breaks=("JR-AUTH-002",),
    ),
    # -- errors -------------------------------------------------------------------------------
    Fault(
        "error-without-success",
        "The error envelope has no success field.",
        breaks=("JR-ERRORS-001",),
    ),
    Fault(
        "reasons-on-success",
        "Successful answers carry an empty reasons list.",
        breaks=("JR-ERRORS-002",),
    ),
    Fault(
        "empty-reason-message",
        "Error reasons have an empty message.",
        breaks=("JR-ERRORS-002",),
    ),
    Fault(
        "process-id-on-success",
        "Successful answers carry a processId.",
        breaks=("JR-ERRORS-003",),
    ),
    Fault(
        "seven-digit-codes",
        "Error codes have seven digits instead of eight (resource code + category).",
        breaks=("JR-ERRORS-004",),
    ),
    Fault(
        "resource-code-not-500000",
        "Errors of requests without a body use the resource code 530000, not 500000.",
        breaks=("JR-ERRORS-006",),
    ),
    Fault(
        "not-found-as-30",
        "An unknown run or entry number is answered with category 30 instead of 40.",
        breaks=("JR-ERRORS-008",),
    ),
    Fault(
        "malformed-json-500",
        "A request body that is not valid JSON is answered HTTP 500.",
        breaks=("JR-ERRORS-009",),
    ),
    Fault(
        "unsupported-method-served",
        "A method the API does not offer on a run (PATCH, PUT, POST) is served as a retrieve.",
        breaks=("JR-ERRORS-010",),
    ),
    # -- versions -----------------------------------------------------------------------------
    Fault(
        "legacy-versions-modern",
        "Numeric (pre-2024-05-20) Zuora-Version values get the modern style: the category's "
        "HTTP status instead of 200.",
        breaks=("JR-VERSIONS-001",),
    ),
    Fault(
        "no-version-modern",
        "Without Zuora-Version errors get the modern style, although the tenant default is legacy.",
        breaks=("JR-VERSIONS-002",),
    ),
    Fault(
        "modern-errors-as-200",
        "Rejected requests are answered HTTP 200 with success:false even under "
        "Zuora-Version 2024-05-20 or later.",
        breaks=("JR-VERSIONS-003",),
    ),
    Fault(
        "numbers-all-legacy",
        "Every numeric Zuora-Version is legacy, also one outside the documented 186.0 to 341.0 "
        "(shown on a tenant whose default style is modern).",
        breaks=("JR-VERSIONS-004",),
        settings={"error_style": "modern"},
        flags={"error_style": "modern"},
    ),
    Fault(
        "unknown-version-refused",
        "An unknown Zuora-Version value is refused with category 20.",
        breaks=("JR-VERSIONS-004",),
    ),
    Fault(
        "created-201",
        "A successful create answers HTTP 201 under Zuora-Version 2024-05-20 or later.",
        breaks=("JR-VERSIONS-005", "JR-CREATE-001"),
    ),
)

#: name -> Fault, in declaration order.
FAULTS: Mapping[str, Fault] = {fault.name: fault for fault in _ALL}


def check_fault_names(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset, or a ConfigError naming the unknown ones and the valid ones."""
    chosen = frozenset(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ConfigError(
            f"unknown fault {', '.join(map(repr, unknown))}; valid faults: {', '.join(FAULTS)}"
        )
    return chosen
