"""Errors as the vendor answers them: categories, resource codes, the envelope and the status.

An error code has eight digits: a six-digit resource code naming the operation and a two-digit
category naming the kind of failure (``53010022`` = create a journal run, missing required field).
Whether the HTTP status says the same as the category depends on the request's ``Zuora-Version``.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from ._settings import ErrorStyle


class Category(IntEnum):
    PERMISSION_DENIED = 10
    AUTHENTICATION_FAILED = 11
    INVALID_VALUE = 20
    UNKNOWN_FIELD = 21
    MISSING_FIELD = 22
    MISSING_PARAMETER = 23
    RULE_RESTRICTION = 30
    NOT_FOUND = 40
    UNSUPPORTED_REQUEST = 45
    LOCKING_CONTENTION = 50
    INTERNAL_ERROR = 60
    TEMPORARY_ERROR = 61
    LIMIT_EXCEEDED = 70
    MALFORMED_REQUEST = 90
    INTEGRATION_ERROR = 99


#: The HTTP status of each category from Zuora-Version 2024-05-20 on.
MODERN_STATUS: Mapping[Category, int] = {
    Category.PERMISSION_DENIED: 403,
    Category.AUTHENTICATION_FAILED: 401,
    Category.INVALID_VALUE: 400,
    Category.UNKNOWN_FIELD: 400,
    Category.MISSING_FIELD: 400,
    Category.MISSING_PARAMETER: 400,
    Category.RULE_RESTRICTION: 400,
    Category.NOT_FOUND: 404,
    Category.UNSUPPORTED_REQUEST: 405,
    Category.LOCKING_CONTENTION: 409,
    Category.INTERNAL_ERROR: 500,
    Category.TEMPORARY_ERROR: 500,
    Category.LIMIT_EXCEEDED: 429,
    Category.MALFORMED_REQUEST: 400,
    Category.INTEGRATION_ERROR: 500,
}

#: Requests without a body (GET, DELETE, the cancels) and unknown paths.
NO_BODY_RESOURCE = 500000

#: The resource code of each body-carrying operation. The vendor does not publish these; the
#: reference fixes one per operation so that a code alone says where an error came from.
RESOURCE_CODES: Mapping[str, int] = {
    "POST_JournalRun": 530100,
    "POST_SummaryJournalEntry": 530200,
    "PUT_BasicSummaryJournalEntry": 530300,
    "POST_OAuthToken": 530400,
}

#: The first minor version whose errors carry their category's HTTP status.
MODERN_SINCE = dt.date(2024, 5, 20)

_VERSION_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_VERSION_NUMBER = re.compile(r"\d{1,6}(\.\d{1,6})?")
#: The numbered minor versions, all from before 2024-05-20: always the legacy style.
LEGACY_NUMBERS = (186.0, 341.0)


class ApiError(Exception):
    """A rejected request: its category, a readable message and, rarely, a fixed HTTP status.

    ``status`` is set only where the vendor answers the same status whatever the version
    (authentication 401, rate limit 429, the Idempotency-Key conflicts 409 and 422);
    ``modern_status`` picks among a category's statuses (45: 405, 406 or 415) in the modern style.
    """

    def __init__(
        self,
        category: Category,
        message: str,
        *,
        status: int | None = None,
        modern_status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
        self.status = status
        self.modern_status = modern_status
        self.headers = dict(headers or {})


def is_modern(zuora_version: str | None, default: ErrorStyle) -> bool:
    """Whether errors answer with their category's status rather than HTTP 200.

    A date-shaped version compares as a date with 2024-05-20; a numbered one from 186.0 to 341.0
    is from before it (legacy, whatever the tenant default: JR-VERSIONS-001); anything else
    (absent, unknown) means the tenant default.
    """
    version = (zuora_version or "").strip()
    if _VERSION_DATE.fullmatch(version):
        try:
            return dt.date.fromisoformat(version) >= MODERN_SINCE
        except ValueError:
            pass
    elif _VERSION_NUMBER.fullmatch(version):
        low, high = LEGACY_NUMBERS
        if low <= float(version) <= high:
            return False
    return default == "modern"


def error_code(resource: int, category: Category, *, seven_digits: bool = False) -> str:
    if seven_digits:  # FAULT seven-digit-codes: the resource code loses its leading digit
        return f"{resource % 100000:05d}{category.value:02d}"
    return f"{resource:06d}{category.value:02d}"


def envelope(code: str | int, message: str, request_id: str) -> dict[str, Any]:
    """The vendor's CommonResponse for a failure."""
    return {
        "success": False,
        "processId": secrets.token_hex(8).upper(),
        "reasons": [{"code": code, "message": message}],
        "requestId": request_id,
    }
