"""The fuzz checks: their ids, titles and the requirements each may fail (from the catalogue's
``blame`` section), and the :class:`Finding` every rule yields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .._catalogue import default_blame


@dataclass(frozen=True)
class FuzzCheck:
    """One check of the fuzz stage: it becomes one CheckResult (``kind="fuzz"``)."""

    id: str
    title: str
    area: str
    requirement_ids: tuple[str, ...]
    #: The schemathesis built-in checks this one reports (empty for the suite's own checks).
    builtins: tuple[str, ...] = ()


#: Which requirement each check reports and each finding fails: the catalogue says.
BLAME: Final = default_blame()


def fuzz_check(check_id: str, title: str, area: str, builtins: tuple[str, ...] = ()) -> FuzzCheck:
    """A check, with the requirements the catalogue's ``blame.checks`` gives it."""
    return FuzzCheck(check_id, title, area, BLAME.check(check_id), builtins)


ENVELOPE = "fuzz.error-envelope"
ERROR_STATUS = "fuzz.error-status"
TRACK_ID = "fuzz.track-id-echo"
REQUEST_ID = "fuzz.request-id"
NUMBERS = "fuzz.number-format"
LIFECYCLE = "fuzz.lifecycle"
CANCEL_RULE = "fuzz.cancel-rule"
DELETE_RULE = "fuzz.delete-rule"
AVAILABILITY = "fuzz.resource-availability"

#: The suite's own checks, in report order.
CUSTOM_CHECKS: Final[tuple[FuzzCheck, ...]] = (
    fuzz_check(
        ENVELOPE,
        "Every answer is a JSON envelope; every failure has success false, a processId and "
        "reasons with 8-digit codes",
        "errors",
    ),
    fuzz_check(
        ERROR_STATUS,
        "HTTP statuses follow the version rules: an error has its category's status under "
        "Zuora-Version 2024-05-20 and HTTP 200 under a legacy version; a success is HTTP 200",
        "versions",
    ),
    fuzz_check(TRACK_ID, "The Zuora-Track-Id sent is echoed unchanged", "headers"),
    fuzz_check(REQUEST_ID, "Every answer carries a 36-character Zuora-Request-Id", "headers"),
    fuzz_check(NUMBERS, "Journal run and entry numbers are JR-/JE- and eight digits", "create"),
    fuzz_check(
        LIFECYCLE,
        "Run statuses are the documented seven and only move along the documented lifecycle",
        "retrieve",
    ),
    fuzz_check(CANCEL_RULE, "A cancel is accepted only from Pending, Error or Completed", "cancel"),
    fuzz_check(DELETE_RULE, "A delete is accepted only from Cancelled", "delete"),
    fuzz_check(
        AVAILABILITY,
        "A created run stays retrievable (whatever its status) until an accepted delete, and is "
        "then DeleteInprogress or not found",
        "retrieve",
    ),
)


@dataclass(frozen=True)
class Finding:
    """One judgement of one exchange against one requirement."""

    check_id: str
    requirement_id: str
    passed: bool
    description: str
    expected: Any = None
    actual: Any = None


def finding(
    check_id: str,
    name: str,
    passed: bool,
    description: str,
    expected: Any = None,
    actual: Any = None,
) -> Finding:
    """A finding of ``check_id``, blamed on what the catalogue says its ``name`` fails."""
    return Finding(check_id, BLAME.finding(check_id, name), passed, description, expected, actual)
