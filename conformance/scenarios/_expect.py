"""Judging one response: paths into its JSON body, the operators, and the error envelope.

Everything here is pure: an :class:`Observed` response and an :class:`Expectation` (templates
already resolved) give a :class:`Judgement`. The runner turns outcomes into assertions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .._catalogue import default_blame
from .._envelope import (
    CATEGORY_MEANING,
    CODE_PATTERN,
    Style,
    category_of,
    error_style,
    has_reasons,
    parse_code,
    statuses_for,
)
from .._envelope import (
    codes as reason_codes,
)
from ._model import OPERATORS, Expectation

_MAX_SHOWN = 120


# -- paths ---------------------------------------------------------------------------------------


def parse_path(text: str) -> tuple[str, ...]:
    """A JSON pointer (``/journalEntries/0/status``) or a dotted path (``journalEntries.0.status``).

    ``""`` is the whole body; ``*`` as a segment matches every item of an array or object.
    Raises :class:`ValueError` for a dotted path with an empty segment.
    """
    if text == "":
        return ()
    if text.startswith("/"):
        return tuple(part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/"))
    parts = tuple(text.split("."))
    if any(part == "" for part in parts):
        raise ValueError(f"{text!r} is neither a JSON pointer (/a/b) nor a dotted path (a.b)")
    return parts


def find(document: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at ``path`` (several only through ``*``); ``[]`` when there is none."""
    if not path:
        return [document]
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(document, list):
            children = document
        elif isinstance(document, dict):
            children = list(document.values())
        else:
            return []
        return [found for child in children for found in find(child, rest)]
    if isinstance(document, dict):
        return find(document[head], rest) if head in document else []
    if isinstance(document, list) and head.isdigit() and int(head) < len(document):
        return find(document[int(head)], rest)
    return []


# -- the response as judged ----------------------------------------------------------------------


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


#: The body of a response that is not JSON.
NOT_JSON: Any = _NotJson()


@dataclass
class Observed:
    """What a response showed: status, headers (case-insensitive look-up), parsed JSON body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = NOT_JSON
    #: The ``Zuora-Version`` the request was sent with (``None``: not sent).
    zuora_version: str | None = None
    #: How the target answers errors without a known ``Zuora-Version``: ``auto`` accepts both.
    default_style: str = "auto"

    @property
    def body_status(self) -> str | None:
        """The ``status`` field of a JSON object body (a run's or an entry's), if any."""
        status = self.body.get("status") if isinstance(self.body, dict) else None
        return status if isinstance(status, str) else None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        values = [value for key, value in self.headers.items() if key.lower() == lowered]
        return ", ".join(values) if values else None


#: The requirements an outcome speaks for, and the outcome.
Judged = tuple[tuple[str, ...], "Judgement"]


@dataclass
class Judgement:
    passed: bool
    description: str
    expected: Any = None
    actual: Any = None
    #: Why it failed, in words (empty when it passed).
    detail: str = ""


# -- evaluation ----------------------------------------------------------------------------------


def evaluate(expectation: Expectation, observed: Observed) -> Judgement:
    """Judge one expectation (its templates already filled in) against one response."""
    if expectation.target == "status":
        allowed = list(expectation.operators["in"])
        description = "HTTP status is " + _either(allowed)
        passed = observed.status in allowed
        detail = "" if passed else f"got HTTP {observed.status}"
        return Judgement(passed, description, allowed, observed.status, detail)
    if expectation.target == "error":
        facets = _error(expectation, observed)
        first = facets[0][1]
        failed = [outcome.detail for _, outcome in facets if not outcome.passed]
        return Judgement(
            not failed, first.description, first.expected, first.actual, "; ".join(failed)
        )
    if expectation.target == "header":
        name = expectation.path[0]
        value = observed.header(name)
        found = [] if value is None else [value]
        return _check(f"header {name}", found, expectation.operators, what="header")
    if observed.body is NOT_JSON:
        description = f"{_label(expectation.source)} {_describe(expectation.operators)}"
        return Judgement(False, description, expectation.operators, None, "the body is not JSON")
    found = find(observed.body, expectation.path)
    return _check(_label(expectation.source), found, expectation.operators, what="value")


def describe(expectation: Expectation) -> str:
    """What the expectation asks for, in words (``/status equals "Completed"``)."""
    if expectation.target == "status":
        return "HTTP status is " + _either(list(expectation.operators["in"]))
    if expectation.target == "error":
        text = "refused (success false) with category " + _categories(
            list(expectation.operators["category"])
        )
        if expectation.operators.get("any_body_on_401"):
            text += ", or HTTP 401 with any body"
        return text
    if expectation.target == "header":
        return f"header {expectation.path[0]} {_describe(expectation.operators)}"
    return f"{_label(expectation.source)} {_describe(expectation.operators)}"


def reached(expectation: Expectation, observed: Observed) -> bool:
    """Whether a wait for ``expectation`` is over: for an error, once the request is refused
    with the expected category (its status and code format are judged, not waited for)."""
    if expectation.target == "error":
        return _error(expectation, observed)[0][1].passed
    return evaluate(expectation, observed).passed


def judge(expectation: Expectation, observed: Observed) -> list[Judged]:
    """Like :func:`evaluate`, but an ``error`` expectation gives one outcome per facet, each with
    the requirements it verifies; anything else gives one outcome, with its own requirements."""
    if expectation.target == "error":
        return _error(expectation, observed)
    return [(expectation.requirement_ids, evaluate(expectation, observed))]


def _check(label: str, found: list[Any], operators: Mapping[str, Any], *, what: str) -> Judgement:
    description = f"{label} {_describe(operators)}"
    actual: Any = found[0] if len(found) == 1 else found
    expected = {k: v for k, v in operators.items() if k not in ("optional", "ignoring")}

    def fail(detail: str) -> Judgement:
        return Judgement(False, description, expected, actual if found else None, detail)

    if "exists" in operators and bool(found) != operators["exists"]:
        return fail(f"got {_show(actual)}" if found else "nothing there")
    if operators.get("absent") and found:
        return fail(f"got {_show(actual)}")
    value_ops = [name for name in OPERATORS if name in operators and name not in _PRESENCE]
    if value_ops and not found:
        if operators.get("optional"):
            return Judgement(True, description, expected, None)
        return fail(f"no {what} there")
    ignored = tuple(operators.get("ignoring", ()))
    for value in found:
        for name in value_ops:
            if ignored and name in ("equals", "not_equals"):
                problem = _OPS[name](_without(value, ignored), _without(operators[name], ignored))
            else:
                problem = _OPS[name](value, operators[name])
            if problem:
                where = f" (one of {len(found)} values)" if len(found) > 1 else ""
                return fail(problem + where)
    return Judgement(True, description, expected, actual if found else None)


_PRESENCE = ("exists", "absent")


def _without(value: Any, keys: tuple[str, ...]) -> Any:
    """An object without ``keys`` (the ``ignoring`` modifier of equals); anything else as is."""
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in keys}


def _error(expectation: Expectation, observed: Observed) -> list[Judged]:
    """An error envelope of one of the categories, with a status the request's style allows.

    Three facets, each tied to what it verifies: the refusal and its category (the step's own
    requirements), the 8-digit codes and the HTTP status for the request's version style (what
    the catalogue's ``blame.style`` names for the code format and each version style). When
    the request was not refused at all, only the first is judged: the others would only repeat it.
    """
    blame = default_blame()
    categories = list(expectation.operators["category"])
    style = error_style(observed.zuora_version)
    declared = style == "default" and observed.default_style in ("legacy", "modern")
    judged_style: Style = observed.default_style if declared else style  # type: ignore[assignment]
    body = observed.body
    codes = reason_codes(body)
    # The status must fit the category the server gave (its own reading of the failure); the
    # category the step expected is judged on its own, in the first facet.
    given = [c for c in (category_of(code) for code in codes) if c is not None]
    allowed = statuses_for(given or categories, judged_style)
    actual = {"status": observed.status, "success": _get(body, "success"), "codes": codes}

    # 1. Refused, with a reason of the expected category (read from the last two digits, so a
    #    malformed code still tells its category and is blamed only on the code format).
    refusal = Judgement(True, describe(expectation), categories, actual)
    problems: list[str] = []
    # A 401 may come from a gateway before the API, with a body of any shape (the catalogue's
    # decision on auth errors); with any_body_on_401 the status alone answers (the category is
    # judged by the scenario that checks the auth error's category).
    any_body = observed.status == 401 and (
        not has_reasons(body) or bool(expectation.operators.get("any_body_on_401"))
    )
    if any_body:
        allowed = statuses_for(categories, judged_style)
    if not any_body:
        if not isinstance(body, dict):
            problems.append("the body is not a JSON object")
        elif body.get("success") is not False:
            problems.append(f"success is {_show(body.get('success', '<absent>'))}, not false")
        elif not has_reasons(body):
            problems.append("reasons is missing or empty")
        else:
            seen = [category_of(code) for code in codes]
            if not set(seen) & set(categories):
                got = _either(
                    [
                        str(c) if c is not None else _show(code)
                        for c, code in zip(seen, codes, strict=True)
                    ]
                )
                problems.append(f"got category {got}")
    refusal.passed, refusal.detail = not problems, "; ".join(problems)
    judged: list[Judged] = [(expectation.requirement_ids, refusal)]
    refused = not problems or (isinstance(body, dict) and body.get("success") is False)
    if not refused:
        return judged

    # 2. Every code is eight digits.
    if codes:
        bad = [code for code in codes if parse_code(code) is None]
        detail = f"got code {_show(bad[0])}" if bad else ""
        outcome = Judgement(
            not bad, "every reason code is eight digits", CODE_PATTERN, codes, detail
        )
        judged.append(((blame.version_style("code-format"),), outcome))

    # 3. The HTTP status the request's version style asks for.
    sent = observed.zuora_version
    if declared:
        why = f"the target's default style is {judged_style}"
    else:
        why = {
            "modern": f"Zuora-Version {sent}: the category's status",
            "legacy": f"Zuora-Version {sent}: the legacy style",
            "default": "without a known Zuora-Version either style",
        }[style]
    if sent is None:
        why += ", no Zuora-Version sent"
    description = f"HTTP status {_either(list(allowed))} ({why})"
    passed = observed.status in allowed
    outcome = Judgement(
        passed,
        description,
        list(allowed),
        observed.status,
        "" if passed else f"got HTTP {observed.status}",
    )
    style_requirements = [blame.version_style(style)]
    if style == "default" and sent:  # a value sent but not recognised
        style_requirements.append(blame.version_style("unknown-version"))
    judged.append((tuple(style_requirements), outcome))
    return judged


def _get(body: Any, key: str) -> Any:
    return body.get(key) if isinstance(body, dict) else None


# -- operators: each returns why the value fails, or "" ------------------------------------------


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: ``1 == 1.0``, but ``true != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _op_type(value: Any, wanted: Any) -> str:
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    actual = _json_type(value)
    if actual in names or (actual == "integer" and "number" in names):
        return ""
    return f"got {_show(value)} ({actual})"


def _op_equals(value: Any, wanted: Any) -> str:
    return "" if _json_equal(value, wanted) else f"got {_show(value)}"


def _op_not_equals(value: Any, wanted: Any) -> str:
    return f"got {_show(value)}" if _json_equal(value, wanted) else ""


def _op_in(value: Any, allowed: Any) -> str:
    if not isinstance(allowed, list):
        return f"cannot compare with {_show(allowed)}: not a list"
    return "" if any(_json_equal(value, item) for item in allowed) else f"got {_show(value)}"


def _op_not_in(value: Any, refused: Any) -> str:
    if not isinstance(refused, list):
        return f"cannot compare with {_show(refused)}: not a list"
    return f"got {_show(value)}" if any(_json_equal(value, item) for item in refused) else ""


def _op_matches(value: Any, pattern: Any) -> str:
    # Numbers are matched as their JSON text: error codes come as strings or as numbers.
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = json.dumps(value)
    elif isinstance(value, str):
        text = value
    else:
        return f"got {_show(value)}, not a string"
    return "" if re.search(str(pattern), text) else f"got {_show(value)}"


def _op_length(value: Any, wanted: Any) -> str:
    if not isinstance(value, str | list | dict):
        return f"got {_show(value)}, which has no length"
    size = len(value)
    low, high = (
        (wanted, wanted) if isinstance(wanted, int) else (wanted.get("min"), wanted.get("max"))
    )
    if (low is not None and size < int(low)) or (high is not None and size > int(high)):
        return f"got length {size}"
    return ""


def _number(value: Any) -> Decimal | None:
    """A number, or a decimal string (amounts are declared decimal strings): else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _op_min(value: Any, bound: Any) -> str:
    number, limit = _number(value), _number(bound)
    if number is None or limit is None:
        return f"got {_show(value)}, not a number"
    return "" if number >= limit else f"got {_show(value)}"


def _op_max(value: Any, bound: Any) -> str:
    number, limit = _number(value), _number(bound)
    if number is None or limit is None:
        return f"got {_show(value)}, not a number"
    return "" if number <= limit else f"got {_show(value)}"


_OPS = {
    "type": _op_type,
    "equals": _op_equals,
    "not_equals": _op_not_equals,
    "in": _op_in,
    "not_in": _op_not_in,
    "matches": _op_matches,
    "length": _op_length,
    "min": _op_min,
    "max": _op_max,
}


# -- words ---------------------------------------------------------------------------------------


def _label(source: str) -> str:
    return source if source else "the body"


def _describe(operators: Mapping[str, Any]) -> str:
    parts = list(_phrases(operators))
    text = ", ".join(parts) if parts else "(no operator)"
    if operators.get("ignoring"):
        text += f" (ignoring {', '.join(operators['ignoring'])})"
    return f"{text} (if present)" if operators.get("optional") else text


def _phrases(operators: Mapping[str, Any]) -> Iterator[str]:
    for name in OPERATORS:
        if name not in operators:
            continue
        value = operators[name]
        if name == "exists":
            yield "exists" if value else "is absent"
        elif name == "absent":
            yield "is absent"
        elif name == "type":
            yield f"is of type {_either([value] if isinstance(value, str) else list(value))}"
        elif name == "equals":
            yield f"equals {_show(value)}"
        elif name == "not_equals":
            yield f"does not equal {_show(value)}"
        elif name == "in":
            yield f"is one of {_show(value)}"
        elif name == "not_in":
            yield f"is none of {_show(value)}"
        elif name == "matches":
            yield f"matches {value!r}"
        elif name == "length":
            if isinstance(value, int):
                yield f"has length {value}"
            else:
                bounds = [f">= {value['min']}" if "min" in value else ""]
                bounds.append(f"<= {value['max']}" if "max" in value else "")
                yield "has length " + " and ".join(b for b in bounds if b)
        elif name == "min":
            yield f">= {_show(value)}"
        elif name == "max":
            yield f"<= {_show(value)}"


def _categories(categories: list[int]) -> str:
    return _either([f"{c} ({CATEGORY_MEANING.get(c, '?')})" for c in categories])


def _either(values: list[Any]) -> str:
    shown = [str(v) for v in values]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " or " + shown[-1]


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
