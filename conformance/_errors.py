"""The error envelope's vocabulary: 8-digit codes, their categories, and the HTTP status of each.

A code is a six-digit resource code followed by a two-digit category (``50000040``: resource
``500000``, category ``40`` not found). From ``Zuora-Version: 2024-05-20`` on, an error comes with
its category's HTTP status; before that version, and by default for tenants never upgraded, the
same body comes with HTTP 200. This module is the one place that knows the table.
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

#: What the facets of a scenario's ``error`` expectation verify, whatever the step is about:
#: the code format, and the HTTP status each version style asks for.
CODE_FORMAT_REQUIREMENT = "JR-ERRORS-004"
STYLE_REQUIREMENT: Mapping[str, str] = {
    "modern": "JR-VERSIONS-003",
    "legacy": "JR-VERSIONS-001",
    "default": "JR-VERSIONS-002",
}
#: ... and, when the request sent a ``Zuora-Version`` the suite does not recognise.
UNKNOWN_VERSION_REQUIREMENT = "JR-VERSIONS-004"

#: Statuses a server may answer with in every style, whatever the category says: 401 for an
#: authentication failure (JR-AUTH-001), 429 for the rate limit, 5xx for server failures
#: (JR-VERSIONS-001).
ALWAYS_STATUS: Mapping[int, tuple[int, ...]] = {
    11: (401,),
    60: (500,),
    61: (500,),
    70: (429,),
    99: (500,),
}

_CODE = re.compile(r"^\d{8}$")
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
    ``342.0``), so the tenant's default applies, which may be either (JR-VERSIONS-002, -004).
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
