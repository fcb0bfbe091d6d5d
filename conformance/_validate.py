"""Validating a response against the spec: the schema of its operation and status.

The spec is OpenAPI 3.1, whose schemas are JSON Schema Draft 2020-12. Formats (``date``,
``date-time``) are asserted, not just annotated.

Two validators, because the scenario engine validates every response it reads and most are valid:
``jsonschema-rs`` (compiled, already installed for schemathesis) answers "valid?" in a few
microseconds; only a body it rejects goes through ``jsonschema``, whose errors carry the structure
the report needs (which ``oneOf`` branch came closest). Schemas are compiled with their local
``#/...`` references inlined; one whose references are recursive is validated by ``jsonschema``
alone, as a ``$ref`` into the whole spec document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import jsonschema
import jsonschema_rs
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ._paths import fill_path, match_path, path_params

__all__ = [
    "Problem",
    "ResponseValidator",
    "Verdict",
    "fill_path",
    "match_path",
    "operations",
    "path_params",
]

_SPEC_URI = "urn:journal-runs-conformance:spec"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
#: At most this many schema problems are reported for one response.
_MAX_PROBLEMS = 5


def operations(spec: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``operationId -> (method, path template)`` for every operation of ``spec``."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, Mapping) and isinstance(operation.get("operationId"), str):
                found[operation["operationId"]] = (method, path)
    return found


@dataclass(frozen=True)
class Problem:
    """One way a body breaks the schema, and where (path segments into the body)."""

    path: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        if not self.path and self.message.startswith("+"):  # "+3 more"
            return self.message
        return f"{_where(self.path) or 'the body'}: {self.message}"


@dataclass(frozen=True)
class Verdict:
    """What the spec says of one response."""

    #: ``False`` when the spec declares no JSON schema for this operation and status.
    checked: bool
    problems: tuple[Problem, ...] = ()
    #: Which response of the spec was used: ``GET_JournalRun 200`` (``4XX``, ``default``).
    response: str = ""

    @property
    def valid(self) -> bool:
        return not self.problems


class ResponseValidator:
    """Validates responses against one spec; thread-safe once built (validators are cached)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._spec = spec
        self._operations = operations(spec)
        resource: Resource[Any] = Resource.from_contents(
            dict(spec), default_specification=DRAFT202012
        )
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self._validators: dict[str, _Validators] = {}

    def validate(self, operation_id: str, status: int, body: Any, *, is_json: bool) -> Verdict:
        """Validate ``body`` (parsed JSON; ``is_json`` False when it did not parse)."""
        found = self._response(operation_id, status)
        if found is None:
            declared = ", ".join(self._declared(operation_id)) or "none"
            problem = (
                f"HTTP {status} is not a documented response of {operation_id} "
                f"(documented: {declared})"
            )
            return Verdict(True, (Problem((), problem),), f"{operation_id} {status}")
        key, pointer = found
        label = f"{operation_id} {key}"
        if pointer is None:
            return Verdict(False, (), label)
        if not is_json:
            return Verdict(True, (Problem((), "is not JSON"),), label)
        fast, full = self._validator(pointer)
        if fast is not None and fast.is_valid(body):
            return Verdict(True, (), label)
        errors = [leaf for error in full.iter_errors(body) for leaf in _leaves(error, self._deref)]
        # Two allOf branches that state the same constraint report the same problem: once.
        unique = list(dict.fromkeys(_problem(error) for error in errors))
        ordered = sorted(unique, key=lambda p: [str(x) for x in p.path])
        problems = tuple(ordered[:_MAX_PROBLEMS])
        if len(ordered) > _MAX_PROBLEMS:
            problems += (Problem((), f"+{len(ordered) - _MAX_PROBLEMS} more"),)
        if not problems and fast is not None:
            # The two disagree (regex dialects: ECMA-262's \d is ASCII only); the stricter wins.
            for error in fast.iter_errors(body):
                leaf = _fast_leaf(error)
                problems = (Problem(tuple(leaf.instance_path), leaf.message),)
                break
        return Verdict(True, problems, label)

    # -- look-ups -----------------------------------------------------------------------------

    def _responses(self, operation_id: str) -> Mapping[str, Any]:
        method, path = self._operations[operation_id]
        item = self._spec["paths"][path][method]
        responses = item.get("responses") or {}
        return responses if isinstance(responses, Mapping) else {}

    def _declared(self, operation_id: str) -> list[str]:
        return [str(key) for key in self._responses(operation_id)]

    def _response(self, operation_id: str, status: int) -> tuple[str, str | None] | None:
        """``(key, schema pointer or None)`` of the response documenting ``status``."""
        responses = self._responses(operation_id)
        method, path = self._operations[operation_id]
        for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
            if key not in responses:
                continue
            response = self._deref(responses[key])
            content = response.get("content") if isinstance(response, Mapping) else None
            media = _json_media_type(content or {})
            if media is None or "schema" not in content[media]:  # type: ignore[index]
                return key, None
            pointer = "/".join(_escape(part) for part in ("", "paths", path, method, "responses"))
            pointer += f"/{_escape(key)}"
            if "$ref" in responses[key]:  # a shared response object: point at it instead
                pointer = str(responses[key]["$ref"]).lstrip("#")
            return key, f"{pointer}/content/{_escape(media)}/schema"
        return None

    def _deref(self, value: Any) -> Any:
        """Follow a local ``$ref`` (responses may be shared under ``components/responses``)."""
        seen = 0
        while isinstance(value, Mapping) and isinstance(value.get("$ref"), str) and seen < 10:
            ref = value["$ref"]
            if not ref.startswith("#/"):
                break
            target: Any = self._spec
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, Mapping) else None
            value, seen = target, seen + 1
        return value

    def _validator(self, pointer: str) -> _Validators:
        validators = self._validators.get(pointer)
        if validators is None:
            schema: Any
            fast = None
            try:
                schema = _inline(self._deref({"$ref": f"#{pointer}"}), self._deref, ())
                fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
            except _CannotInline:
                schema = {"$ref": f"{_SPEC_URI}#{quote(pointer, safe='/~')}"}
            full = jsonschema.Draft202012Validator(
                schema,
                registry=self._registry,
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
            validators = self._validators[pointer] = (fast, full)
        return validators


_Validators = tuple["jsonschema_rs.Validator | None", jsonschema.protocols.Validator]


class _CannotInline(Exception):
    """A schema refers to itself, or to nothing; it is validated through the registry."""


def _inline(schema: Any, deref: Any, refs: tuple[str, ...]) -> Any:
    """``schema`` with every local ``$ref`` replaced by what it points at (``refs``: the chain
    being expanded, to notice recursion). A ``$ref`` beside other keywords becomes an ``allOf``
    member, which is what 2020-12 means by it."""
    if isinstance(schema, list):
        return [_inline(item, deref, refs) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if not (isinstance(ref, str) and ref.startswith("#/")):
        return {key: _inline(value, deref, refs) for key, value in schema.items()}
    found = deref({"$ref": ref})
    if ref in refs or not isinstance(found, Mapping | bool):
        raise _CannotInline(ref)
    target = _inline(found, deref, (*refs, ref))
    rest = {key: _inline(value, deref, refs) for key, value in schema.items() if key != "$ref"}
    if not rest:
        return target
    return {**rest, "allOf": [*rest.get("allOf", []), target]}


def _json_media_type(content: Mapping[str, Any]) -> str | None:
    for media in content:
        base = media.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return media
    return None


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _leaves(
    error: jsonschema.ValidationError, deref: Any = None
) -> list[jsonschema.ValidationError]:
    """The errors worth reporting: inside a ``oneOf``/``anyOf`` (success or error envelope), those
    of the branch the body claims (``success: true``: the branch whose ``success`` is
    ``const: true``), else of the branch it came closest to (fewest errors), not "is not valid
    under any"."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
    claimed = _claimed_branch(error, deref)
    if claimed is not None and claimed in branches:
        chosen = branches[claimed]
    else:
        chosen = min(branches.values(), key=len)
    return [leaf for sub in chosen for leaf in _leaves(sub, deref)]


def _claimed_branch(error: jsonschema.ValidationError, deref: Any) -> int | None:
    """The index of the one branch whose ``success`` const equals the body's ``success``."""
    body = error.instance
    if not isinstance(body, Mapping) or not isinstance(body.get("success"), bool):
        return None
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    matching = [
        i
        for i, branch in enumerate(branches)
        if _success_const(branch, deref, 0) is body["success"]
    ]
    return matching[0] if len(matching) == 1 else None


def _success_const(schema: Any, deref: Any, depth: int) -> Any:
    """The ``const`` a schema puts on ``success`` (through ``$ref`` and ``allOf``), else None."""
    if depth > 8 or not isinstance(schema, Mapping):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and deref is not None:
        if ref.startswith(_SPEC_URI):
            ref = unquote(ref[len(_SPEC_URI) :])
        if ref.startswith("#/"):
            found = _success_const(deref({"$ref": ref}), deref, depth + 1)
            if found is not None:
                return found
    success = (schema.get("properties") or {}).get("success")
    if isinstance(success, Mapping) and isinstance(success.get("const"), bool):
        return success["const"]
    for member in schema.get("allOf") or ():
        found = _success_const(member, deref, depth + 1)
        if found is not None:
            return found
    return None


def _fast_leaf(error: Any) -> Any:
    """:func:`_leaves` for a ``jsonschema-rs`` error: inside a ``oneOf``/``anyOf``, the first
    error of the branch the body came closest to."""
    branches = getattr(error.kind, "context", None)
    if isinstance(branches, list) and branches:
        closest = min(branches, key=len)
        if closest:
            return _fast_leaf(closest[0])
    return error


def _problem(error: jsonschema.ValidationError) -> Problem:
    """``/amount: expected number, got "abc"``; a missing field is named at its own path."""
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    got = f"got {_show(instance)}"
    if kind == "required":
        named = _REQUIRED.match(error.message)
        name = named.group(1).strip("'\"") if named else ""
        return Problem((*path, name) if name else path, "required, missing")
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        message = f"expected {' or '.join(str(t) for t in types)}, {got}"
    elif kind == "enum" and isinstance(value, list):
        shown = ", ".join(_show(v) for v in value[:_MAX_ENUM])
        more = f", +{len(value) - _MAX_ENUM} more" if len(value) > _MAX_ENUM else ""
        message = f"expected one of [{shown}{more}], {got}"
    elif kind == "const":
        message = f"expected {_show(value)}, {got}"
    elif kind == "format":
        message = f"expected a {value} string, {got}"
    elif kind == "pattern":
        message = f"expected a string matching {value}, {got}"
    elif kind in _BOUNDS:
        message = f"expected {_BOUNDS[kind]} {value}, {got}"
    elif kind == "additionalProperties" and value is False:
        message = error.message.replace(" were unexpected", "").replace(" was unexpected", "")
        message = f"unexpected field(s): {message.split('(', 1)[-1].rstrip(')')}"
    else:
        message = error.message
    if len(message) > 200:
        message = message[:199] + "…"
    return Problem(path, message)


_REQUIRED = re.compile(r"^(.*) is a required property$", re.DOTALL)
#: At most this many values of an enumeration are shown.
_MAX_ENUM = 8
_BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
    "minLength": "length >=",
    "maxLength": "length <=",
    "minItems": "at least items:",
    "maxItems": "at most items:",
}


def _show(value: Any) -> str:
    """A value as JSON, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _where(path: Iterable[Any]) -> str:
    return "".join(f"/{part}" for part in path)
