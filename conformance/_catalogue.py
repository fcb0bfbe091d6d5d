"""The contract: the OpenAPI spec and the requirement catalogue, loaded and looked up.

Everything the suite checks traces back to a :class:`Requirement` here. ``spec/requirements.yaml``
is validated against ``schemas/requirements.schema.json`` and then linted against the spec, so a
typo in an ID, a level or an operationId stops the suite before it tests anything.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

try:
    from yaml import CSafeLoader as _Fastest
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Fastest  # type: ignore[assignment]

from . import _resources
from ._blame import Blame, parse_blame
from ._exceptions import CatalogueError

#: PyYAML's safe loader, with libyaml's parser where PyYAML was built with it (several times
#: faster); the scenario files are read with it too.
SafeLoader = _Fastest

Level = Literal["MUST", "SHOULD", "MAY"]
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD", "MAY")

#: The small, linted vocabulary of areas. A requirement's ID names its area: ``JR-<AREA>-<NNN>``.
AREAS: tuple[str, ...] = (
    "create",
    "retrieve",
    "cancel",
    "delete",
    "entries",
    "headers",
    "errors",
    "auth",
    "versions",
)

_ID = re.compile(r"^JR-([A-Z]+)-(\d{3})$")
_VERIFICATION = re.compile(r"^(checked|not-observable: \S.*)$")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Requirement:
    """One normative statement, in the project's own words, with where it comes from."""

    id: str
    level: Level
    statement: str
    area: str
    #: Rendered for people: ``"Create a journal run § Request Body: targetStartDate"``.
    source: str = ""
    operations: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())
    #: How a conforming server may behave where the documents leave a choice.
    decision: str = ""
    #: Why the level is what it is, where that was argued (e.g. a MUST downgraded because the
    #: source describes the client's side).
    level_reason: str = ""
    #: The reference variants that produce the other behaviours ``decision`` accepts (the
    #: self-test proves the suite accepts each); empty with ``variants_reason`` saying why none.
    variants: tuple[str, ...] = ()
    variants_reason: str = ""
    #: ``checked`` (some check names it), or why no check can: ``not-observable: ...``.
    verification: str = "checked"

    @property
    def testable(self) -> bool:
        return not self.verification.startswith("not-observable")


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI spec."""

    operation_id: str
    method: str  # upper case: "PUT"
    path: str  # as in the spec: "/v1/journal-runs/{jr-number}/cancel"
    has_body: bool  # the operation declares a requestBody
    summary: str


@dataclass(frozen=True)
class Document:
    """One source document the catalogue cites, by its key (``cancel``, ``facts``...)."""

    key: str
    title: str
    file: str


@dataclass(frozen=True)
class SourceRef:
    document: str  # a key of Catalogue.documents
    section: str


@dataclass(frozen=True)
class Entry:
    """A requirement as written in the file, with its unrendered sources (what lint needs)."""

    requirement: Requirement
    sources: tuple[SourceRef, ...] = ()


class Catalogue:
    """The parsed spec and the requirements, with look-ups by ID."""

    def __init__(
        self,
        spec: dict[str, Any],
        entries: Sequence[Entry],
        documents: Mapping[str, Document],
        *,
        spec_path: Path | None = None,
        requirements_path: Path | None = None,
        blame: Blame | None = None,
    ) -> None:
        self.spec = spec
        self._blame = blame
        self.documents = dict(documents)
        self.operations = _operations(spec)
        self.spec_path = spec_path
        self.requirements_path = requirements_path
        #: Every entry in file order, duplicates included, so that lint can report them.
        self.entries = tuple(entries)
        self.requirements: dict[str, Requirement] = {}
        for entry in self.entries:
            self.requirements.setdefault(entry.requirement.id, entry.requirement)
        #: Requirement ID -> level, for grading failures (a SHOULD or MAY failure is a WARN).
        self.levels: dict[str, str] = {r.id: r.level for r in self.requirements.values()}

    @property
    def blame(self) -> Blame:
        """Which requirement a schema violation, an envelope field or a fuzz finding fails (the
        catalogue's ``blame`` section; a catalogue without one uses the bundled catalogue's)."""
        return self._blame if self._blame is not None else default_blame()

    def requirement(self, requirement_id: str) -> Requirement:
        try:
            return self.requirements[requirement_id]
        except KeyError:
            raise CatalogueError(
                _unknown("requirement id", requirement_id, self.requirements)
            ) from None

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise CatalogueError(_unknown("operationId", operation_id, self.operations)) from None

    def response_values(self, operation_id: str, path: Sequence[str]) -> frozenset[str] | None:
        """The values the spec lets a successful answer of ``operation_id`` hold at ``path``
        (body path segments; ``*`` or a number steps into a list), from the ``enum`` or
        ``const`` there; ``None`` when no such answer declares a closed set of strings there."""
        operation = self.operations.get(operation_id)
        if operation is None:
            return None
        raw = self.spec["paths"][operation.path][operation.method.lower()]
        found: set[str] = set()
        closed = False
        for code, response in (raw.get("responses") or {}).items():
            if not str(code).startswith("2"):
                continue
            content = (self._deref(response).get("content") or {}).get("application/json") or {}
            for values in _values_at(content.get("schema"), tuple(path), self._deref):
                closed = True
                found.update(values)
        return frozenset(found) if closed else None

    def _deref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                return {}
            target: Any = self.spec
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
            node, seen = target, seen + 1
        return node if isinstance(node, dict) else {}

    def by_level(self, level: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.level == level]

    def by_area(self, area: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.area == area]

    def by_tag(self, tag: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if tag in r.tags]

    def summary(self) -> str:
        """What ``jr-conformance spec-info`` prints."""
        return "\n".join(self._summary_lines())

    def _summary_lines(self) -> Iterator[str]:
        info = self.spec.get("info") or {}
        yield f"Spec: {info.get('title', '(untitled)')} {info.get('version', '')}".rstrip() + (
            f" (OpenAPI {self.spec.get('openapi', '?')})"
        )
        if self.spec_path is not None:
            yield f"  {self.spec_path}"
        yield ""
        yield f"Operations ({len(self.operations)}):"
        width = max((len(op.path) for op in self.operations.values()), default=0)
        for op in self.operations.values():
            yield f"  {op.method:<7}{op.path:<{width}}  {op.operation_id}"
        yield ""

        requirements = list(self.requirements.values())
        yield f"Requirements: {len(requirements)} ({_level_counts(requirements)})"
        if self.requirements_path is not None:
            yield f"  {self.requirements_path}"
        yield "By area:"
        for area in AREAS:
            in_area = [r for r in requirements if r.area == area]
            yield f"  {area:<10}{len(in_area):>4}  ({_level_counts(in_area)})"
        hidden = [r for r in requirements if not r.testable]
        yield f"Not observable: {len(hidden)} ({_level_counts(hidden)})"
        yield ""

        enums = _enums(self.spec)
        yield f"Enums ({len(enums)}):"
        width = max((len(name) for name in enums), default=0)
        for name, size in enums.items():
            yield f"  {name:<{width}}  {size:>3} value{'s' if size != 1 else ''}"


def load_catalogue(
    spec_path: Path | None = None, requirements_path: Path | None = None
) -> Catalogue:
    """Load, validate and lint the spec and the catalogue; any problem is a CatalogueError.

    The default files (``conformance._resources``) are read once per process. Treat the
    returned catalogue as read-only: it is shared.
    """
    if spec_path is None and requirements_path is None:
        return _load_default()
    return _load(
        Path(spec_path) if spec_path is not None else _resources.spec_path(),
        Path(requirements_path)
        if requirements_path is not None
        else _resources.requirements_path(),
    )


@functools.cache
def _load_default() -> Catalogue:
    return _load(_resources.spec_path(), _resources.requirements_path())


def _load(spec_path: Path, requirements_path: Path) -> Catalogue:
    spec = _read_yaml(spec_path, "spec")
    _check_spec(spec, spec_path)
    data = _read_yaml(requirements_path, "requirement catalogue")
    _validate(data, requirements_path)
    documents = {
        key: Document(key, raw["title"], raw["file"]) for key, raw in data["documents"].items()
    }
    entries = [_entry(raw, documents) for raw in data["requirements"]]
    blame = parse_blame(data["blame"]) if "blame" in data else None
    catalogue = Catalogue(
        spec,
        entries,
        documents,
        spec_path=spec_path,
        requirements_path=requirements_path,
        blame=blame,
    )
    problems = lint(catalogue)
    if problems:
        listed = "".join(f"\n  - {problem}" for problem in problems)
        raise CatalogueError(f"{requirements_path}: {len(problems)} problem(s):{listed}")
    return catalogue


def lint(catalogue: Catalogue) -> list[str]:
    """Problems the JSON Schema cannot see, one readable line each; empty when all is well."""
    problems: list[str] = []
    first_index: dict[str, int] = {}
    used_documents: set[str] = set()
    for index, entry in enumerate(catalogue.entries):
        requirement = entry.requirement
        rid = requirement.id
        where = f"requirements[{index}] {rid}"
        if rid in first_index:
            problems.append(f"{where}: duplicate id (first at requirements[{first_index[rid]}])")
        else:
            first_index[rid] = index
        match = _ID.match(rid)
        if match is None:
            problems.append(f"{where}: id must look like JR-<AREA>-<nnn>")
        elif match.group(1).lower() not in AREAS:
            problems.append(f"{where}: unknown area {match.group(1)!r} (areas: {_areas_hint()})")
        elif match.group(1).lower() != requirement.area:
            problems.append(
                f"{where}: id names area {match.group(1).lower()!r}, not {requirement.area!r}"
            )
        if requirement.level not in LEVELS:
            problems.append(f"{where}: level {requirement.level!r} is not one of MUST, SHOULD, MAY")
        if not requirement.statement.strip():
            problems.append(f"{where}: empty statement")
        for operation_id in requirement.operations:
            if operation_id not in catalogue.operations:
                problems.append(
                    f"{where}: {_unknown('operation', operation_id, catalogue.operations)}"
                )
        if not entry.sources:
            problems.append(f"{where}: no source")
        for ref in entry.sources:
            used_documents.add(ref.document)
            if ref.document not in catalogue.documents:
                known = ", ".join(catalogue.documents) or "none"
                problems.append(f"{where}: unknown document {ref.document!r} (documents: {known})")
        if not _VERIFICATION.match(requirement.verification):
            problems.append(
                f"{where}: verification must be 'checked' or 'not-observable: <reason>',"
                f" not {requirement.verification!r}"
            )
    for key in catalogue.documents:
        if key not in used_documents:
            problems.append(f"documents.{key}: never cited by a requirement")
    if catalogue._blame is not None:
        problems += catalogue._blame.problems(catalogue.requirements, catalogue.operations)
    return problems


# -- reading and validating ---------------------------------------------------------------------


class _StrictLoader(SafeLoader):
    """A safe loader that refuses duplicate mapping keys (a second ``statement:`` is a typo).

    libyaml's parser where PyYAML has it: the spec and the catalogue then load in 0.1 s instead
    of 0.5 s, at every start of the suite."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"cannot read the {what} {path}: {exc}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no tags run code
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise CatalogueError(f"{path}: not valid YAML: {detail}") from None


def _check_spec(spec: Any, path: Path) -> None:
    if not isinstance(spec, dict):
        raise CatalogueError(f"{path}: the spec must be a YAML mapping")
    if not str(spec.get("openapi", "")).startswith("3."):
        raise CatalogueError(f"{path}: not an OpenAPI 3 document (no 'openapi: 3.x' at the top)")
    if not isinstance(spec.get("paths"), dict) or not spec["paths"]:
        raise CatalogueError(f"{path}: the spec has no paths")
    seen: dict[str, str] = {}
    for where, operation_id in _operation_ids(spec):
        if not isinstance(operation_id, str) or not operation_id:
            raise CatalogueError(f"{path}: {where} has no operationId")
        if operation_id in seen:
            raise CatalogueError(
                f"{path}: operationId {operation_id!r} used twice ({seen[operation_id]}, {where})"
            )
        seen[operation_id] = where


@functools.cache
def _schema() -> dict[str, Any]:
    path = _resources.schema_path("requirements")
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # a broken installation, not a user error
        raise CatalogueError(f"cannot read the catalogue's JSON Schema {path}: {exc}") from None
    return schema


def _validate(data: Any, path: Path) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    lines = [_describe(error, data) for error in errors[:10]]
    more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
    listed = "".join(f"\n  - {line}" for line in lines)
    raise CatalogueError(f"{path}: does not match the catalogue format:{listed}{more}")


def _describe(error: jsonschema.ValidationError, data: Any) -> str:
    # A failed oneOf says only "not valid under any": the branch of the right type says why.
    if error.context:
        fitting = [e for e in error.context if e.validator != "type" or e.relative_path]
        error = jsonschema.exceptions.best_match(fitting or error.context)
    where = error.json_path
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "requirements" and isinstance(path[1], int):
        entry = data["requirements"][path[1]]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            where += f" ({entry['id']})"
    if path and path[-1] == "id" and error.validator == "pattern":
        return (
            f"{where}: id {error.instance!r} must be JR-<AREA>-<nnn>, AREA one of {_areas_hint()}"
        )
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{where}: {message}"


def _entry(raw: dict[str, Any], documents: Mapping[str, Document]) -> Entry:
    source = raw["source"]
    refs = tuple(
        SourceRef(ref["document"], ref["section"])
        for ref in (source if isinstance(source, list) else [source])
    )
    match = _ID.match(raw["id"])
    requirement = Requirement(
        id=raw["id"],
        level=raw["level"],
        statement=" ".join(raw["statement"].split()),
        area=match.group(1).lower() if match else "",
        source=render_sources(refs, documents),
        operations=tuple(raw["operations"]),
        tags=tuple(raw.get("tags", ())),
        decision=" ".join(raw.get("decision", "").split()),
        level_reason=" ".join(raw.get("level_reason", "").split()),
        variants=tuple(raw.get("variants", ())),
        variants_reason=" ".join(raw.get("variants_reason", "").split()),
        verification=raw["verification"],
    )
    return Entry(requirement, refs)


def render_sources(refs: Sequence[SourceRef], documents: Mapping[str, Document]) -> str:
    """``"Create a journal run § Request Body: targetStartDate; ..."``"""

    def title(key: str) -> str:
        document = documents.get(key)
        return document.title if document is not None else key

    return "; ".join(f"{title(ref.document)} § {ref.section}" for ref in refs)


# -- the spec -------------------------------------------------------------------------------------


def _operation_ids(spec: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for path, item in spec["paths"].items():
        if not isinstance(item, dict):
            continue
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield f"{method.upper()} {path}", operation.get("operationId")


def _values_at(
    schema: Any, path: tuple[str, ...], deref: Callable[[Any], Any]
) -> Iterator[frozenset[str]]:
    """Closed sets of string values (``enum``, ``const``) the schema allows at ``path``, one per
    branch that reaches it: a value must be in one of them."""
    node = deref(schema)
    if not isinstance(node, dict) or not node:
        return
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(key) or ():
            yield from _values_at(branch, path, deref)
    if not path:
        values = node["enum"] if "enum" in node else [node["const"]] if "const" in node else None
        if values and all(isinstance(v, str) for v in values):
            yield frozenset(values)
        return
    head, rest = path[0], path[1:]
    if head == "*" or head.isdigit():
        if "items" in node:
            yield from _values_at(node["items"], rest, deref)
        return
    properties = node.get("properties") or {}
    if head in properties:
        yield from _values_at(properties[head], rest, deref)


def _operations(spec: dict[str, Any]) -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in _HTTP_METHODS:
            raw = item.get(method)
            if not isinstance(raw, dict) or not isinstance(raw.get("operationId"), str):
                continue
            operations[raw["operationId"]] = Operation(
                operation_id=raw["operationId"],
                method=method.upper(),
                path=path,
                has_body="requestBody" in raw,
                summary=str(raw.get("summary", "")),
            )
    return operations


def _enums(spec: dict[str, Any]) -> dict[str, int]:
    """Every distinct enum in the spec's components, by where it first appears."""
    found: dict[str, int] = {}
    seen: set[tuple[str, ...]] = set()

    def walk(node: Any, name: str) -> None:
        if isinstance(node, dict):
            values = node.get("enum")
            if isinstance(values, list):
                key = tuple(sorted(map(str, values)))
                if key not in seen:
                    seen.add(key)
                    found[name] = len(values)
            for child_key, child in node.items():
                if child_key == "properties" and isinstance(child, dict):
                    for prop, schema in child.items():
                        walk(schema, f"{name}.{prop}")
                elif child_key == "items":
                    walk(child, f"{name}[]")
                elif child_key in ("allOf", "anyOf", "oneOf") and isinstance(child, list):
                    for branch in child:
                        walk(branch, name)
                elif child_key in ("schema", "additionalProperties"):
                    walk(child, name)

    components = spec.get("components") or {}
    for section in ("schemas", "parameters"):
        for name, node in (components.get(section) or {}).items():
            walk(node, str(name))
    return found


# -- messages -------------------------------------------------------------------------------------


def _level_counts(requirements: Sequence[Requirement]) -> str:
    counts = Counter(r.level for r in requirements)
    return ", ".join(f"{level} {counts[level]}" for level in LEVELS)


def _areas_hint() -> str:
    return ", ".join(area.upper() for area in AREAS)


def _unknown(what: str, value: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {value!r}{hint}"


def default_blame() -> Blame:
    """The bundled catalogue's blame tables (loaded and checked once per process)."""
    return load_catalogue().blame
