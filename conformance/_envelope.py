"""The envelope as the suite reads it: accepted or refused, reasons, 8-digit codes, categories,
and the HTTP status of each category.

Every answer of the API is a JSON object with a boolean ``success``; a failure carries
``reasons: [{code, message}]``. A code is a six-digit resource code followed by a two-digit
category (``50000040``: resource ``500000``, category ``40`` not found). From ``Zuora-Version:
2024-05-20`` on, an error comes with its category's HTTP status; before that version, and by
default for tenants never upgraded, the same body comes with HTTP 200. This module is the one
place that knows the table, and the one place that reads an answer's envelope (every other
module asks it).

Which requirement a broken envelope field fails is data: see :mod:`conformance._blame`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

#: The first version that answers errors with the category's status instead of 200.
MODERN_VERSION = "2024-05-20"
#: The numeric versions the vendor documents (186.0 ... 341.0); any other number is unknown.
LEGACY_NUMBERS = (186.0, 341.0)

#: Category -> the statuses a server may answer with under the modern style.
CATEGORY_STATUS: Mapping[int, tuple[int, ...]] = {
    10: (403,),  # permission or access denied
    11: (401,),  # authentication failed
    20: (400,),  # invalid format or value
    21: (400,),  # unknown field in request
    22: (400,),  # missing required field
    23: (400,),  # missing required parameter
    30: (400,),  # rule restriction (business rule)
    40: (404,),  # not found
    45: (405, 406, 415),  # unsupported request
    50: (409,),  # locking contention
    60: (500,),  # internal error
    61: (500,),  # temporary error
    70: (429,),  # request exceeded limit
    90: (400,),  # malformed request
    99: (500,),  # integration error
}

CATEGORY_MEANING: Mapping[int, str] = {
    10: "permission or access denied",
    11: "authentication failed",
    20: "invalid format or value",
    21: "unknown field in request",
    22: "missing required field",
    23: "missing required parameter",
    30: "rule restriction",
    40: "not found",
    45: "unsupported request",
    50: "locking contention",
    60: "internal error",
    61: "temporary error",
    70: "request exceeded limit",
    90: "malformed request",
    99: "integration error",
}

#: Statuses a server may answer with in every style, whatever the category says: 401 for an
#: authentication failure (the authentication requirement allows it), 429 for the rate limit,
#: 5xx for server failures (the versions requirement allows them in the legacy style too).
ALWAYS_STATUS: Mapping[int, tuple[int, ...]] = {
    11: (401,),
    60: (500,),
    61: (500,),
    70: (429,),
    99: (500,),
}

#: Categories the suite acts on.
AUTHENTICATION = 11
RULE_RESTRICTION = 30
NOT_FOUND = 40
LOCKING = 50

#: An 8-digit code: six for the resource, two for the category.
CODE_PATTERN = r"^\d{8}$"
_CODE = re.compile(CODE_PATTERN)
_DATE_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMERIC_VERSION = re.compile(r"^\d+(\.\d+)?$")

Style = Literal["modern", "legacy", "default"]


def parse_code(code: Any) -> tuple[int, int] | None:
    """``(resource, category)`` of an 8-digit code given as a string or a number; else ``None``.

    The spec types the code as a string, the guides call it numeric: both are accepted.
    """
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        code = str(code)
    if not isinstance(code, str) or not _CODE.match(code):
        return None
    return int(code[:6]), int(code[6:])


def error_style(zuora_version: str | None) -> Style:
    """How errors are answered for a request sent with this ``Zuora-Version`` header value.

    ``modern``: a date version from 2024-05-20 on (the category's status). ``legacy``: a numeric
    version (``186.0`` ... ``341.0``) or an earlier date (HTTP 200). ``default``: no header or an
    unknown value (``banana``, or a number outside the documented ones such as ``185.0`` or
    ``342.0``), so the tenant's default applies, which may be either (the versions area).
    """
    value = (zuora_version or "").strip()
    if _DATE_VERSION.match(value):
        return "modern" if value >= MODERN_VERSION else "legacy"
    if _NUMERIC_VERSION.match(value):
        low, high = LEGACY_NUMBERS
        return "legacy" if low <= float(value) <= high else "default"
    return "default"


def statuses_for(categories: Iterable[int], style: Style) -> tuple[int, ...]:
    """The HTTP statuses an error of any of ``categories`` may come with in ``style``."""
    allowed: dict[int, None] = {}
    if style != "modern":
        allowed[200] = None
    for category in categories:
        if style != "legacy":
            allowed.update(dict.fromkeys(CATEGORY_STATUS.get(category, ())))
        allowed.update(dict.fromkeys(ALWAYS_STATUS.get(category, ())))
    return tuple(allowed)


# -- reading an answer ---------------------------------------------------------------------------


def is_accepted(status: int | None, body: Any) -> bool:
    """Any 2xx status without ``success: false``: the server says it did what was asked."""
    return (
        status is not None
        and 200 <= status < 300
        and not (isinstance(body, Mapping) and body.get("success") is False)
    )


def is_succeeded(status: int | None, body: Any) -> bool:
    """HTTP 2xx with ``success: true``: the request did what it asked, and says so."""
    return (
        status is not None
        and 200 <= status < 300
        and isinstance(body, Mapping)
        and body.get("success") is True
    )


def is_refused(status: int | None, body: Any) -> bool:
    """An error answer: ``success: false`` (any status, the legacy style's HTTP 200 included) or
    a 4xx/5xx status."""
    if status is None:
        return False
    return status >= 400 or (isinstance(body, Mapping) and body.get("success") is False)


def reasons(body: Any) -> list[Mapping[str, Any]]:
    """The ``reasons`` of an envelope that are objects; ``[]`` when there are none."""
    found = body.get("reasons") if isinstance(body, Mapping) else None
    if not isinstance(found, list):
        return []
    return [reason for reason in found if isinstance(reason, Mapping)]


def has_reasons(body: Any) -> bool:
    """Whether the body carries a non-empty ``reasons`` array."""
    found = body.get("reasons") if isinstance(body, Mapping) else None
    return isinstance(found, list) and bool(found)


def codes(body: Any) -> list[Any]:
    """The ``code`` of each reason, as sent (string, number, or anything else)."""
    return [reason.get("code") for reason in reasons(body)]


def category_of(code: Any) -> int | None:
    """The category of a code: its last two digits, read even when the code has the wrong length
    (so that a code's length and its category are judged separately); ``None`` when it has no
    digits there (``SystemError``)."""
    if isinstance(code, bool) or not isinstance(code, int | str):
        return None
    text = str(code)
    return int(text[-2:]) if len(text) >= 2 and text[-2:].isdigit() else None


def categories(body: Any) -> list[int]:
    """The category of each reason code that has one, in order."""
    return [c for c in (category_of(code) for code in codes(body)) if c is not None]


def first_reason(body: Any) -> tuple[Any, str] | None:
    """``(code, message)`` of the first reason, or ``None``."""
    found = reasons(body)
    if not found:
        return None
    return found[0].get("code"), str(found[0].get("message") or "")


def is_not_found(status: int | None, body: Any) -> bool:
    """A refusal that says the thing is not there: HTTP 404, or a reason of category 40."""
    return is_refused(status, body) and (status == 404 or NOT_FOUND in categories(body))


def is_auth_refusal(status: int, body: Any) -> bool:
    """Whether an answer refuses a request for its credentials: 401 or 403, or (legacy error
    style) HTTP 200 with ``success: false`` and a well-formed code of category 11."""
    if status in (401, 403):
        return True
    if status != 200 or not isinstance(body, Mapping) or body.get("success") is not False:
        return False
    for code in codes(body):
        text = str(code).strip() if isinstance(code, int | str) else ""
        parsed = parse_code(text) if not isinstance(code, bool) else None
        if parsed is not None and parsed[1] == AUTHENTICATION:
            return True
    return False
