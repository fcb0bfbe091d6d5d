"""``${name}`` templates: which variables a value uses, and the value with them filled in.

A string that is exactly one ``${name}`` becomes the variable's value with its JSON type (a saved
list stays a list); elsewhere the value is written into the text. ``$$`` is a literal ``$``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

#: Variables every scenario has without defining them.
BUILTINS: tuple[str, ...] = ("run_id", "uuid", "today", "scenario")

_TEMPLATE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class UndefinedVariable(KeyError):
    """A template names a variable that has no value (yet)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"undefined variable ${{{self.name}}}"


def names_in(value: Any) -> Iterator[str]:
    """Every variable name ``value`` uses, at any depth (mapping keys included)."""
    if isinstance(value, str):
        for match in _TEMPLATE.finditer(value):
            if match.group(1):
                yield match.group(1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from names_in(key)
            yield from names_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from names_in(item)


class Variables:
    """The variables of one scenario run: built-ins, ``vars`` and what steps saved."""

    def __init__(self, *, run_id: str, scenario: str) -> None:
        self._values: dict[str, Any] = {"run_id": run_id, "scenario": scenario}

    def __contains__(self, name: object) -> bool:
        return name in self._values or name in ("uuid", "today")

    def __setitem__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def get(self, name: str) -> Any:
        if name == "uuid":  # fresh at every use; save it in ``vars`` to reuse one
            return str(uuid.uuid4())
        if name == "today":
            return dt.datetime.now(dt.UTC).date().isoformat()
        if name not in self._values:
            raise UndefinedVariable(name)
        return self._values[name]

    def resolve(self, value: Any) -> Any:
        """``value`` with its templates filled in (:class:`UndefinedVariable` if one is unset)."""
        if isinstance(value, str):
            whole = _WHOLE.match(value)
            if whole:
                return self.get(whole.group(1))
            return _TEMPLATE.sub(self._text, value)
        if isinstance(value, Mapping):
            return {self.resolve(key): self.resolve(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(item) for item in value]
        return value

    def _text(self, match: re.Match[str]) -> str:
        if not match.group(1):
            return "$"
        value = self.get(match.group(1))
        return value if isinstance(value, str) else json.dumps(value)
