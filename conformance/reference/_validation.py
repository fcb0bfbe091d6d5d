"""Reading fields of a JSON body: each accessor returns a typed value or raises the right error.

A missing required field is category 22; a field of the wrong type, format, length or value is 20.
No request field of the contract is nullable, so ``null`` is a wrong type too (20), not an absent
field. Fields the operation does not know are ignored, as the vendor does by default.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ._errors import ApiError, Category
from ._settings import ReferenceSettings

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL = re.compile(r"-?\d{1,15}(\.\d{1,9})?")


def missing(name: str) -> ApiError:
    return ApiError(Category.MISSING_FIELD, f"{name} is required.")


def invalid(name: str, why: str) -> ApiError:
    return ApiError(Category.INVALID_VALUE, f"{name} {why}.")


def alt_category(settings: ReferenceSettings) -> bool:
    """Whether refusals take the other category their decision accepts (each call site is marked
    ``VARIANT refusal-categories-alt`` and says which category becomes which)."""
    return settings.has_variant("refusal-categories-alt")


def refusal(
    settings: ReferenceSettings, usual: Category, other: Category, message: str
) -> ApiError:
    """A refusal in ``usual``, or in ``other`` under the variant refusal-categories-alt."""
    return ApiError(other if alt_category(settings) else usual, message)


def recategorised(
    error: ApiError, settings: ReferenceSettings, changes: Mapping[Category, Category]
) -> ApiError:
    """``error`` with its category changed per ``changes`` under refusal-categories-alt."""
    if alt_category(settings):
        error.category = changes.get(error.category, error.category)
    return error


class Fields:
    """Typed access to one JSON object; ``where`` prefixes messages (``journalEntryItems[2].``)."""

    def __init__(self, data: Mapping[str, Any], where: str = "") -> None:
        self._data = data
        self._where = where

    def name(self, key: str) -> str:
        return f"{self._where}{key}"

    def raw(self, key: str) -> Any:
        """The value as sent (None when absent), for fields with more than one accepted shape."""
        return self._get(key, required=False)

    def _get(self, key: str, required: bool) -> Any:
        if key in self._data and self._data[key] is None:
            raise invalid(self.name(key), "must not be null")
        value = self._data.get(key)
        if value is None and required:
            raise missing(self.name(key))
        return value

    def string(self, key: str, *, max_length: int, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(self.name(key), "must be a string")
        if len(value) > max_length:
            raise invalid(self.name(key), f"must be at most {max_length} characters")
        return value

    def required_string(self, key: str, *, max_length: int) -> str:
        value = self.string(key, max_length=max_length, required=True)
        assert value is not None
        if not value.strip():
            raise missing(self.name(key))
        return value

    def choice(self, key: str, allowed: Collection[str], *, required: bool = False) -> str | None:
        value = self.string(key, max_length=200, required=required)
        if value is not None and value not in allowed:
            raise invalid(self.name(key), f"must be one of: {', '.join(allowed)}")
        return value

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        value = self.string(key, max_length=10, required=required)
        if value is None:
            return None
        return parse_date(value, self.name(key))

    def required_date(self, key: str) -> dt.date:
        value = self.date(key, required=True)
        assert value is not None
        return value

    def array(self, key: str, *, max_items: int, required: bool = False) -> list[Any] | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, list):
            raise invalid(self.name(key), "must be an array")
        if len(value) > max_items:
            raise invalid(self.name(key), f"must have at most {max_items} items")
        return value

    def amount(self, key: str, *, required: bool = False) -> Decimal | None:
        """A non-negative decimal, given as a JSON number or a decimal string (both are seen)."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise invalid(self.name(key), "must be a decimal number")
        text = repr(value) if isinstance(value, float) else str(value)
        if isinstance(value, float) and "e" in text.lower():
            text = format(Decimal(text), "f")
        if not _DECIMAL.fullmatch(text.strip()):
            raise invalid(self.name(key), "must be a decimal number with at most 9 decimal places")
        try:
            amount = Decimal(text.strip())
        except InvalidOperation:  # pragma: no cover - the pattern already excludes these
            raise invalid(self.name(key), "must be a decimal number") from None
        if amount < 0:
            raise invalid(self.name(key), "must not be negative")
        return amount


def objects(items: list[Any], name: str) -> list[Fields]:
    """Each item of an array as Fields, or 20 when one is not an object."""
    fields = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid(f"{name}[{index}]", "must be an object")
        fields.append(Fields(item, f"{name}[{index}]."))
    return fields


def parse_date(value: str, name: str) -> dt.date:
    """``YYYY-MM-DD`` and a real calendar date, else 20."""
    if not _DATE.fullmatch(value):
        raise invalid(name, "must be a date in the format YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise invalid(name, f"is not a valid date: {value}") from None


def query_int(query: Mapping[str, str], key: str, *, default: int, low: int, high: int) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw.strip()):
        raise invalid(key, f"must be a whole number from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise invalid(key, f"must be a whole number from {low} to {high}")
    return value
