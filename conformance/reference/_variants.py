"""Every conforming alternative the reference server can be told to take, declared in one table.

Where the sources leave a choice (a requirement's ``decision`` in ``spec/requirements.yaml``),
the faithful reference takes one reading. A variant makes it take another one that is just as
conforming, so the self-test can prove that the suite accepts every reading the catalogue allows:
a check that fails on a variant is a false alarm. Each variant names the requirement IDs whose
decision it exercises (``readings``), and those requirements name it back (``variants:``); the
code that behaves differently checks ``settings.has_variant(NAME)`` at a clearly marked point
(grep ``VARIANT``).

A few variants exercise a freedom of HTTP itself rather than of a decision (how a body is framed,
how header names are spelled); they give that ``basis`` instead of readings.

Unlike faults, variants combine: the self-test runs each alone and all at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .._exceptions import ConfigError


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    #: The requirement IDs whose ``decision`` this variant takes another reading of.
    readings: tuple[str, ...] = ()
    #: Where no decision is involved: the standard that allows the behaviour.
    basis: str = ""


#: Categories each refusal takes under refusal-categories-alt (the reference's own reading ->
#: another one the requirement's decision accepts). Kept here so the table says what the variant
#: does; the code applies it where each refusal is raised.
_ALT_CATEGORIES = (
    "missing journalEntryDate or transactionTypes 22 -> 20; an empty or unknown transaction "
    "type 20 -> 22; a missing accountingPeriodName or targetStartDate 22 -> 23; an unknown period "
    "name 30 -> 40; target dates that differ from the period, span periods or come with Revenue "
    "Event Item 30 -> 20; a date before the earliest allowed one 20 -> 30; a second run while one "
    "executes 30 -> 50; a malformed run number 20 -> 40; a run cancel refused while "
    "CancelInprogress or Processing, and a run delete refused while CancelInprogress, "
    "30 -> 50; an unbalanced entry, a transferred entry's cancel, "
    "an uncancelled entry's delete and a cancelled entry's change 30 -> 20; a body that is not "
    "JSON 90 -> 20; a method the path does not offer 45 -> 40 (404)"
)


_ALL: tuple[Variant, ...] = (
    # -- authentication -----------------------------------------------------------------------
    Variant(
        "auth-legacy-200",
        "In the legacy error style an authentication failure answers HTTP 200 with success false "
        "and category 11 instead of 401.",
        readings=("JR-AUTH-001", "JR-VERSIONS-001"),
    ),
    Variant(
        "auth-401-gateway-body",
        'A 401 carries a gateway\'s body, {"message": "Authentication error"}, not the error '
        "envelope (no success, no reasons).",
        readings=("JR-AUTH-002", "JR-ERRORS-001"),
    ),
    # -- refusals and error styles ------------------------------------------------------------
    Variant(
        "refusal-categories-alt",
        "Every refusal whose decision accepts several categories takes another accepted one: "
        + _ALT_CATEGORIES
        + ".",
        readings=(
            "JR-CREATE-003",
            "JR-CREATE-004",
            "JR-CREATE-005",
            "JR-CREATE-006",
            "JR-CREATE-007",
            "JR-CREATE-008",
            "JR-CREATE-009",
            "JR-CREATE-010",
            "JR-CREATE-011",
            "JR-RETRIEVE-007",
            "JR-CANCEL-002",
            "JR-DELETE-002",
            "JR-ENTRIES-008",
            "JR-ENTRIES-010",
            "JR-ENTRIES-011",
            "JR-ENTRIES-015",
            "JR-ERRORS-009",
            "JR-ERRORS-010",
        ),
    ),
    Variant(
        "default-modern-style",
        "The tenant's default error style is modern (the category's HTTP status without a "
        "Zuora-Version, or with an unknown one), whatever the suite is told.",
        readings=("JR-VERSIONS-002", "JR-VERSIONS-004", "JR-ERRORS-008", "JR-DELETE-003"),
    ),
    Variant(
        "no-process-id",
        "Error envelopes carry no processId.",
        readings=("JR-ERRORS-003",),
    ),
    Variant(
        "codes-as-numbers",
        "Error codes are JSON numbers (53010022), not strings.",
        readings=("JR-ERRORS-004",),
    ),
    Variant(
        "request-id-in-newer-versions",
        "The envelope carries requestId only under a Zuora-Version of 2024-05-20 or later, and "
        "then on successful answers too.",
        readings=("JR-VERSIONS-005", "JR-VERSIONS-006"),
    ),
    # -- the lifecycle ------------------------------------------------------------------------
    Variant(
        "fast-lifecycle",
        "Runs move as fast as a server can: a create, cancel or delete has done its work before "
        "it answers (the run is Completed, Cancelled or gone; CancelInprogress and "
        "DeleteInprogress are never seen), whatever the lifecycle delay; a reference-controls "
        "hold still holds.",
        readings=(
            "JR-RETRIEVE-006",
            "JR-CREATE-011",
            "JR-CANCEL-001",
            "JR-CANCEL-003",
            "JR-CANCEL-004",
            "JR-CANCEL-009",
            "JR-DELETE-003",
        ),
    ),
    # -- runs ---------------------------------------------------------------------------------
    Variant(
        "executed-on-rfc3339",
        "executedOn is an RFC 3339 date-time (2014-11-15T22:05:12Z), not the vendor's "
        "2014-11-15 22:05:12.",
        readings=("JR-RETRIEVE-005",),
    ),
    Variant(
        "transaction-types-reordered",
        "A retrieved run lists its transaction types in reverse order of the create.",
        readings=("JR-RETRIEVE-004",),
    ),
    # -- entries ------------------------------------------------------------------------------
    Variant(
        "vendor-nulls",
        "Optional fields are null rather than absent (executedOn before execution, notes never "
        "set, glAccountName and glAccountNumber of an unknown code), and entries and their items "
        "carry custom fields Region__c and CostCenter__c.",
        readings=("JR-ENTRIES-019", "JR-RETRIEVE-005"),
    ),
    Variant(
        "amounts-as-strings",
        'Entry item amounts are decimal strings ("100.50"), as the spec declares, not JSON '
        "numbers.",
        readings=("JR-ENTRIES-018",),
    ),
    Variant(
        "next-page-relative",
        "nextPage is relative to the base URL (/v1/journal-entries/journal-runs/...?page=2...).",
        readings=("JR-ENTRIES-003",),
    ),
    Variant(
        "next-page-null",
        "nextPage is null, not absent, when there is no next page.",
        readings=("JR-ENTRIES-003",),
    ),
    # -- headers ------------------------------------------------------------------------------
    Variant(
        "gzip-small-bodies",
        "With Accept-Encoding gzip, bodies of any size are compressed (not only those over 1000 "
        "bytes).",
        readings=("JR-HEADERS-004",),
    ),
    Variant(
        "request-id-opaque",
        "Zuora-Request-Id (and requestId) is 36 characters that are not a UUID (req- and 32 hex "
        "digits).",
        readings=("JR-HEADERS-007", "JR-VERSIONS-006"),
    ),
    Variant(
        "accept-refused-406",
        "A request whose Accept admits no JSON is refused with category 45 (406 in the modern "
        "style), in JSON.",
        readings=("JR-HEADERS-010",),
    ),
    Variant(
        "idempotency-strict",
        "An Idempotency-Key repeated with a different body is answered 422, and one on a request "
        "other than POST is refused with category 20.",
        readings=("JR-HEADERS-016",),
    ),
    Variant(
        "idempotency-replay-all-headers",
        "A replayed answer repeats the first answer's Zuora-Request-Id too.",
        readings=("JR-HEADERS-011",),
    ),
    # -- HTTP itself --------------------------------------------------------------------------
    Variant(
        "connection-close",
        "Every response says Connection: close and the server closes the connection after it.",
        basis="RFC 9112 section 9.6: either side may close a connection after a response",
    ),
    Variant(
        "chunked-bodies",
        "Response bodies are sent with Transfer-Encoding: chunked (no Content-Length), in "
        "several chunks.",
        basis="RFC 9112 section 7.1: chunked transfer coding frames a body of unknown length",
    ),
    Variant(
        "header-names-title-case",
        "Response header names are sent Title-Case (Zuora-Request-Id, Content-Type) rather than "
        "lower-case.",
        basis="RFC 9110 section 5.1: field names are case-insensitive",
    ),
)

#: name -> Variant, in declaration order.
VARIANTS: Mapping[str, Variant] = {variant.name: variant for variant in _ALL}


def check_variant_names(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset, or a ConfigError naming the unknown ones and the valid ones."""
    chosen = frozenset(names)
    unknown = sorted(chosen - VARIANTS.keys())
    if unknown:
        raise ConfigError(
            f"unknown variant {', '.join(map(repr, unknown))}; valid variants: "
            f"{', '.join(VARIANTS)}"
        )
    return chosen
