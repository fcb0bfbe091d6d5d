"""Arazzo success criteria from scenario expectations: the one place that writes JSONPath
(RFC 9535), regex and simple conditions as Redocly CLI's ``respect`` reads them.

:class:`Criteria` is mixed into the workflow builder (``_arazzo._Workflow``), which provides how
a template becomes an input or output reference (``_ref``, ``_default``, ``_operand``) and the
list of what it could not check (``not_checked``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._envelope import error_style, statuses_for
from ..scenarios import Expectation, ExpectBlock

#: A ``${name}`` or ``${name+N}`` template, or ``$$``; and a value that is only a template.
TEMPLATE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_.]*)([+-][0-9]+)?\}")
WHOLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_.]*)([+-][0-9]+)?\}$")
#: The envelope's own fields.
ENVELOPE = {("success",), ("reasons",), ("processId",), ("requestId",)}


class Criteria:
    """Expectation -> success criteria. What cannot be said in Arazzo goes to ``not_checked``."""

    not_checked: list[str]

    def _ref(self, name: str, offset: str | None, where: str) -> str:
        raise NotImplementedError

    def _default(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def _operand(self, value: Any, where: str) -> tuple[str, bool] | None:
        raise NotImplementedError

    def _criteria(
        self,
        block: ExpectBlock,
        version: str | None,
        where: str,
        what: str,
    ) -> list[dict[str, Any]]:
        criteria: list[dict[str, Any]] = []
        for expectation in block.expectations:
            made = self._criterion(expectation, version, where)
            if made is None:
                ids = ", ".join(expectation.requirement_ids)
                self.not_checked.append(f"{where}: {what} {_show_expectation(expectation)} ({ids})")
                continue
            criteria += made
        return criteria

    def _criterion(
        self, expectation: Expectation, version: str | None, where: str
    ) -> list[dict[str, Any]] | None:
        ops = expectation.operators
        if expectation.target == "status":
            return [_status(list(_as_list(ops["in"])))]
        if expectation.target == "error":
            return self._error(expectation, version, where)
        if expectation.target == "header":
            return self._header(expectation, where)
        # body
        if set(ops) <= {"matches", "optional"} and "*" not in expectation.path:
            pattern = ops["matches"]
            if (
                ops.get("optional")
                or not isinstance(pattern, str)
                or TEMPLATE.search(pattern)
                or "(?P" in pattern
                or not _pointer_ok(expectation.path)
            ):
                return None
            return [
                {
                    "context": "$response.body#" + pointer(expectation.path),
                    "condition": pattern,
                    "type": "regex",
                }
            ]
        condition = self._filter(expectation, where)
        if condition is None:
            return None
        return [{"context": "$response.body", "condition": f"$[?{condition}]", "type": "jsonpath"}]

    def _filter(self, expectation: Expectation, where: str) -> str | None:
        """An RFC 9535 filter expression (over the body as ``@``) that holds exactly when the
        body expectation does; ``None`` when none does."""
        if expectation.target != "body":
            return None
        ops = dict(expectation.operators)
        optional = bool(ops.pop("optional", False))
        if ops.pop("ignoring", None):
            return None
        exists = ops.pop("exists", None)
        absent = ops.pop("absent", None)
        path = expectation.path
        if "*" in path:
            found = f"count(@{_jp_path(path)})"
            parts: list[str] = []
            if exists is True:
                parts.append(f"{found} >= 1")
            if exists is False or absent:
                parts.append(f"{found} == 0")
            if ops:
                failing = self._failing(path, ops, where)
                if failing is None:
                    return None
                parts.append(f"!({failing})")
                if not optional:
                    parts.append(f"{found} >= 1")
            return all_of(parts) if parts else "true == true"
        query = "@" + _jp_path(path)
        parts = []
        if exists is True:
            parts.append(query)
        if exists is False or absent:
            parts.append(f"!{query}")
        if ops:
            cond = self._value_condition(query, ops, where)
            if cond is None:
                return None
            parts.append(any_of([f"!{query}", cond]) if optional else all_of([query, cond]))
        return all_of(parts) if parts else "true == true"

    def _failing(self, path: Sequence[str], ops: Mapping[str, Any], where: str) -> str | None:
        """A filter that holds when some value at ``path`` (``*`` as every item, at any depth)
        fails ``ops``: ``count(@a[?<an item fails>]) > 0``, nested once per ``*``."""
        if "*" not in path:
            query = "@" + _jp_path(path)
            cond = self._value_condition(query, ops, where)
            return None if cond is None else all_of([query, f"!{cond}"])
        cut = list(path).index("*")
        inner = self._failing(path[cut + 1 :], ops, where)
        if inner is None:
            return None
        return f"count(@{_jp_path(path[:cut])}[?{inner}]) > 0"

    def _value_condition(self, query: str, ops: Mapping[str, Any], where: str) -> str | None:
        parts: list[str] = []
        for name, wanted in ops.items():
            made = self._operator(query, name, wanted, where)
            if made is None:
                return None
            parts.append(made)
        return all_of(parts)

    def _operator(self, query: str, name: str, wanted: Any, where: str) -> str | None:
        sized = query
        if re.search(r"\[[0-9]+\]", query):
            # Redocly's JSONPath library compares nothing through an index segment; value()
            # of the same query compares right.
            query = f"value({query})"
        if name in ("equals", "not_equals"):
            operand = self._operand(wanted, where)
            if operand is None:
                return None
            return f"{query} {'==' if name == 'equals' else '!='} {operand[0]}"
        if name in ("in", "not_in"):
            if not isinstance(wanted, list | tuple) or not wanted:
                return None
            operands = [self._operand(item, where) for item in wanted]
            if any(o is None for o in operands):
                return None
            if name == "in":
                return any_of([f"{query} == {o[0]}" for o in operands if o])
            return all_of([f"{query} != {o[0]}" for o in operands if o])
        if name == "type":
            types = [wanted] if isinstance(wanted, str) else list(wanted)
            tests = [_type_test(query, sized, t) for t in types]
            if any(t is None for t in tests):
                return None
            return any_of([t for t in tests if t])
        if name == "length":
            if isinstance(wanted, int):
                return f"length({sized}) == {wanted}"
            bounds = []
            if "min" in wanted:
                bounds.append(f"length({sized}) >= {int(wanted['min'])}")
            if "max" in wanted:
                bounds.append(f"length({sized}) <= {int(wanted['max'])}")
            return all_of(bounds)
        if name in ("min", "max"):
            number = _number(wanted)
            if number is None:
                return None
            return f"{query} {'>=' if name == 'min' else '<='} {number}"
        if name == "matches" and isinstance(wanted, str) and not TEMPLATE.search(wanted):
            # match() holds for strings only; the suite matches a number's JSON text: a number
            # passes here (an approximation the README lists).
            test = _iregexp_test(query, wanted)
            return None if test is None else any_of([f"{query} >= 0", f"{query} < 0", test])
        return None

    def _error(
        self, expectation: Expectation, version: str | None, where: str
    ) -> list[dict[str, Any]]:
        categories = [int(c) for c in _as_list(expectation.operators["category"])]
        statuses = list(statuses_for(categories, error_style(version)))
        if expectation.operators.get("any_body_on_401"):
            if 401 not in statuses:
                statuses.append(401)
            self.not_checked.append(
                f"{where}: error category {categories}: only the status is checked (a 401 may "
                "have any body)"
            )
            return [_status(statuses)]
        alternatives = "|".join(f"{c:02d}" for c in categories)
        return [
            _status(statuses),
            {
                "context": "$response.body",
                "condition": "$[?@['success'] == false]",
                "type": "jsonpath",
            },
            {
                "context": "$response.body#/reasons/0/code",
                "condition": f"^[0-9]{{6}}({alternatives})$",
                "type": "regex",
            },
        ]

    def _header(self, expectation: Expectation, where: str) -> list[dict[str, Any]] | None:
        ops = dict(expectation.operators)
        optional = bool(ops.pop("optional", False))
        name = expectation.path[0]
        if not re.fullmatch(r"[A-Za-z0-9-]+", name):
            return None
        subject = f"$response.header.{name}"
        conditions: list[str] = []
        patterns: list[str] = []
        for op, wanted in ops.items():
            if op == "absent" and wanted:
                conditions.append(f"{subject} == undefined")
            elif op == "exists":
                conditions.append(f"{subject} {'!=' if wanted else '=='} undefined")
            elif op in ("equals", "not_equals", "in"):
                values = _as_list(wanted) if op == "in" else [wanted]
                operands = [self._simple_operand(v, where) for v in values]
                if any(o is None for o in operands):
                    return None
                sign = "!=" if op == "not_equals" else "=="
                conditions.append(" || ".join(f"{subject} {sign} {o}" for o in operands if o))
            elif op == "matches" and isinstance(wanted, str) and not TEMPLATE.search(wanted):
                patterns.append(wanted)
            elif op == "length" and isinstance(wanted, int):
                patterns.append(f"^.{{{wanted}}}$")
            elif op == "length" and isinstance(wanted, Mapping):
                patterns.append(f"^.{{{int(wanted.get('min', 0))},{wanted.get('max', '')}}}$")
            else:
                return None
        if optional:
            if patterns:
                return None
            return [{"condition": f"{subject} == undefined || {c}"} for c in conditions]
        if patterns:
            conditions.insert(0, f"{subject} != undefined")
        criteria: list[dict[str, Any]] = [{"condition": c} for c in conditions]
        criteria += [{"context": subject, "condition": p, "type": "regex"} for p in patterns]
        return criteria

    def _simple_operand(self, value: Any, where: str) -> str | None:
        """A value in a simple condition: a quoted string (no quote inside), a number, or an
        input or output."""
        if isinstance(value, str):
            whole = WHOLE.match(value)
            if whole and whole.group(1) not in ("uuid", "run_id", "scenario"):
                return self._ref(whole.group(1), whole.group(2), where)
            text = str(self._default(value, where))
            if "$" in text or ("'" in text and '"' in text):
                return None
            return f'"{text}"' if "'" in text else f"'{text}'"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int) and value >= 0:
            return str(value)
        return None


def all_of(parts: Sequence[str]) -> str:
    """``a && b && c`` as ``((a) && (b)) && (c)``: the JSONPath library Redocly CLI 2.77 uses
    gets a chain of three or more ``&&`` wrong (the last operand is lost); pairs are right."""
    return _nested(parts, "&&")


def any_of(parts: Sequence[str]) -> str:
    return _nested(parts, "||")


def _nested(parts: Sequence[str], operator: str) -> str:
    text = f"({parts[0]})"
    for part in parts[1:]:
        text = f"({text} {operator} ({part}))"
    return text


def _iregexp_test(query: str, pattern: str) -> str | None:
    """``matches`` as RFC 9535 ``match()`` (anchored) or ``search()``, when the pattern says the
    same in I-Regexp (RFC 9485): ``\\d`` becomes ``[0-9]``; anything else beyond I-Regexp (groups
    with ``?``, ``\\w``, ``\\s``, ``\\b``, anchors inside) is not translated. Only a string
    matches."""
    anchored = pattern.startswith("^")
    body = pattern
    if anchored and pattern.endswith("$") and not pattern.endswith("\\$"):
        body = pattern[1:-1]
    elif anchored:
        body = pattern[1:] + ".*"
    if re.search(
        r"\\[^d.\-+*?()\[\]{}|^$\\/]|\(\?|[\^$]", body.replace("\\$", "").replace("[^", "[")
    ):
        return None
    body = body.replace("\\d", "[0-9]")
    return f"{'match' if anchored else 'search'}({query}, {_jp_string(body)})"


def unique(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each criterion once (an ``until`` and an ``expect`` may ask the same)."""
    seen: dict[str, dict[str, Any]] = {}
    for criterion in criteria:
        seen.setdefault(json.dumps(criterion, sort_keys=True), criterion)
    return list(seen.values())


def _status(statuses: Sequence[Any]) -> dict[str, Any]:
    return {"condition": " || ".join(f"$statusCode == {int(s)}" for s in statuses)}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def pointer(path: Sequence[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _pointer_ok(path: Sequence[str]) -> bool:
    """Whether Redocly's runtime-expression grammar takes this pointer (word characters)."""
    return all(re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in path)


def _jp_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _jp_path(path: Sequence[str]) -> str:
    return "".join(
        "[*]" if p == "*" else f"[{p}]" if p.isdigit() else f"[{_jp_string(p)}]" for p in path
    )


def jp_literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _jp_string(value)
    return None


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return json.dumps(value)
    try:
        return json.dumps(float(str(value)))
    except ValueError:
        return None


def _type_test(query: str, sized: str, wanted: str) -> str | None:
    """A filter that holds when the value at ``query`` has the JSON type ``wanted`` (RFC 9535
    compares only numbers with numbers and strings with strings)."""
    return {
        "null": f"{query} == null",
        "boolean": any_of([f"{query} == true", f"{query} == false"]),
        "number": any_of([f"{query} >= 0", f"{query} < 0"]),
        "integer": any_of([f"{query} >= 0", f"{query} < 0"]),
        "string": f"{query} >= ''",
        "array": all_of([f"length({sized}) >= 0", f"!({query} >= '')"]),
        "object": all_of([f"length({sized}) >= 0", f"!({query} >= '')"]),
    }.get(wanted)


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _show_expectation(expectation: Expectation) -> str:
    ops = {k: v for k, v in expectation.operators.items()}
    where = expectation.source or "/".join(expectation.path) or expectation.target
    return f"{where} {json.dumps(ops, default=str)}"
