"""``${name}`` templates: which variables a value uses, and the value with them filled in.

A string that is exactly one ``${name}`` becomes the variable's value with its JSON type (a saved
list stays a list); elsewhere the value is written into the text. ``$$`` is a literal ``$``.

The tenant's data comes as ``${tenant.period.name}``, ``${tenant.period.start}`` and the rest of
:data:`~conformance._tenant_data.VARIABLES`; a date takes a day offset,
``${tenant.period.start+3}``, which must stay inside its period (``${tenant.earliest_date-1}``
is the one way outside). ``${tenant.earliest_period.end}`` and its siblings are the open period
known to contain the earliest target date; like ``${tenant.earliest_date}`` they may be unknown,
and a scenario that needs one is then skipped with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from .._tenant_data import DATE_VARIABLES, VARIABLES, TenantData

#: Variables every scenario has without defining them.
BUILTINS: tuple[str, ...] = ("run_id", "uuid", "today", "scenario", *VARIABLES)
#: Variables that take a day offset (``${name+N}``).
DATED: frozenset[str] = DATE_VARIABLES | {"today"}

_NAME = r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)([+-][0-9]+)?"
_TEMPLATE = re.compile(r"\$\$|\$\{" + _NAME + r"\}")
_WHOLE = re.compile(r"^\$\{" + _NAME + r"\}$")


class UndefinedVariable(KeyError):
    """A template names a variable that has no value (yet)."""

    def __init__(self, name: str, reason: str | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.reason = reason

    def __str__(self) -> str:
        if self.reason:
            return self.reason
        if self.name == "tenant.earliest_date":
            return (
                "the tenant's earliest target date is not known: set tenant.earliest_date "
                "(--earliest-date, JR_EARLIEST_DATE)"
            )
        return f"undefined variable ${{{self.name}}}"


class OffsetOutOfPeriod(ValueError):
    """A ``${tenant.period.start+N}`` that would leave its period: the period is too short."""


def _uses(value: Any) -> Iterator[re.Match[str]]:
    """Every ``${…}`` template ``value`` uses, at any depth (mapping keys included)."""
    if isinstance(value, str):
        for match in _TEMPLATE.finditer(value):
            if match.group(1):
                yield match
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _uses(key)
            yield from _uses(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _uses(item)


def names_in(value: Any) -> Iterator[str]:
    """Every variable name ``value`` uses, at any depth (mapping keys included)."""
    return (match.group(1) for match in _uses(value))


def offsets_in(value: Any) -> Iterator[tuple[str, str]]:
    """Every ``(name, offset)`` pair ``value`` uses with a day offset."""
    return ((m.group(1), m.group(2)) for m in _uses(value) if m.group(2))


class Variables:
    """The variables of one scenario run: built-ins, ``vars`` and what steps saved."""

    def __init__(self, *, run_id: str, scenario: str, tenant: TenantData | None = None) -> None:
        self._values: dict[str, Any] = {"run_id": run_id, "scenario": scenario}
        self._tenant = tenant
        if tenant is not None:
            self._values.update(tenant.variables())

    def __contains__(self, name: object) -> bool:
        return name in self._values or name in ("uuid", "today")

    def __setitem__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def get(self, name: str, offset: str | None = None) -> Any:
        value = self._get(name)
        if not offset:
            return value
        day = dt.date.fromisoformat(str(value)) + dt.timedelta(days=int(offset))
        bounds = self._tenant.bounds(name) if self._tenant is not None else None
        if bounds is not None and not bounds[0] <= day <= bounds[1]:
            raise OffsetOutOfPeriod(
                f"${{{name}{offset}}} is {day}, outside the period {bounds[0]}..{bounds[1]}: "
                "the tenant's period is too short for this scenario; configure a longer one"
            )
        return day.isoformat()

    def _get(self, name: str) -> Any:
        if name == "uuid":  # fresh at every use; save it in ``vars`` to reuse one
            return str(uuid.uuid4())
        if name == "today":
            return dt.datetime.now(dt.UTC).date().isoformat()
        if name not in self._values:
            why = self._tenant.missing(name) if self._tenant is not None else None
            raise UndefinedVariable(name, why)
        return self._values[name]

    def resolve(self, value: Any) -> Any:
        """``value`` with its templates filled in (:class:`UndefinedVariable` if one is unset)."""
        if isinstance(value, str):
            whole = _WHOLE.match(value)
            if whole:
                return self.get(whole.group(1), whole.group(2))
            return _TEMPLATE.sub(self._text, value)
        if isinstance(value, Mapping):
            return {self.resolve(key): self.resolve(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(item) for item in value]
        return value

    def _text(self, match: re.Match[str]) -> str:
        if not match.group(1):
            return "$"
        value = self.get(match.group(1), match.group(2))
        return value if isinstance(value, str) else json.dumps(value)
