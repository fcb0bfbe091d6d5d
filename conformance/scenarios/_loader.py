"""Loading scenario files: YAML with line numbers, the JSON Schema, then the meaning.

A malformed file is rejected before anything is sent, with one :class:`ScenarioFormatError` that
names the file, the line and the place in the document::

    scenarios/cancel/x.yaml:12: steps[2].expect.status: 'abc' is not of type integer

The YAML is read as YAML 1.2 would read it: only ``true``/``false`` are booleans (``Yes`` stays the
string ``"Yes"``, as ``transferredToAccounting: Yes`` needs), dates stay strings, ``012`` is 12.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from .._catalogue import AREAS, Catalogue
from .._exceptions import ScenarioFormatError
from .._ledger import SAFE_METHODS
from .._resources import scenarios_dir, schema_path
from .._tenants import CAPABILITIES
from .._validate import path_params
from ._expect import parse_path
from ._model import (
    OPERATORS,
    Expectation,
    ExpectBlock,
    ForEach,
    Race,
    Repeat,
    Save,
    Scenario,
    Step,
)
from ._vars import BUILTINS, DATED, names_in, offsets_in
from ._yaml import Document, Path_, compose

# -- public API ----------------------------------------------------------------------------------


def load_scenarios(
    paths: Iterable[str | Path] | None = None, *, catalogue: Catalogue
) -> list[Scenario]:
    """Every scenario under ``paths`` (files, or folders searched for ``*.yaml``), in path order.

    Without ``paths``, the bundled library. Scenario ids must be unique across all files.
    """
    files: list[Path] = []
    for given in [scenarios_dir()] if paths is None else [Path(p) for p in paths]:
        if given.is_dir():
            found = sorted(p for p in given.rglob("*") if p.suffix in (".yaml", ".yml"))
            # A fixtures/ folder holds fixtures: made for the scenarios that use them.
            files += [p for p in found if p.is_file() and FIXTURES not in p.parent.parts]
        elif given.is_file():
            files.append(given)
        else:
            raise ScenarioFormatError(f"{given}: no such scenario file or folder")
    scenarios: list[Scenario] = []
    seen: dict[str, Scenario] = {}
    for file in files:
        scenario = load_scenario(file, catalogue=catalogue)
        if scenario.id in seen:
            first = seen[scenario.id]
            raise ScenarioFormatError(
                f"{scenario.display_path}:1: id: {scenario.id!r} is already the id of "
                f"{first.display_path}"
            )
        seen[scenario.id] = scenario
        scenarios.append(scenario)
    return scenarios


def load_scenario(
    path: str | Path, *, catalogue: Catalogue, fixtures: Mapping[str, Scenario] | None = None
) -> Scenario:
    path = Path(path)
    display = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFormatError(f"{display}: cannot read: {exc}") from None
    area = path.parent.name if path.parent.name in AREAS else None
    scenario = parse_scenario(
        text, catalogue=catalogue, source=display, area=area, fixtures=fixtures
    )
    return _replace_path(scenario, path)


def parse_scenario(
    text: str,
    *,
    catalogue: Catalogue,
    source: str = "<scenario>",
    area: str | None = None,
    fixtures: Mapping[str, Scenario] | None = None,
) -> Scenario:
    """One scenario from YAML ``text``; ``source`` names it in messages. ``fixtures`` are the
    ones it may use (default: the library's)."""
    data, lines = compose(text, source)
    doc = Document(source, lines)
    _check_schema(data, doc)
    if fixtures is None:
        fixtures = load_fixtures(catalogue) if data.get("uses") else {}
    return _Builder(doc, catalogue, fixtures).scenario(data, area)


#: The folder of the library (or of a user's scenario folder) that holds fixtures.
FIXTURES = "fixtures"


@cache
def load_fixtures(catalogue: Catalogue) -> dict[str, Scenario]:
    """The library's fixtures by id (``scenarios/fixtures/*.yaml``): scenarios with ``provides``
    that others ``use``. Loaded once per catalogue."""
    found: dict[str, Scenario] = {}
    folder = scenarios_dir() / FIXTURES
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        fixture = load_scenario(path, catalogue=catalogue, fixtures={})
        if not fixture.is_fixture:
            raise ScenarioFormatError(
                f"{fixture.display_path}:1: a fixture must say what it provides (provides: [...])"
            )
        found[fixture.id] = fixture
    return found


def display_path(path: Path) -> str:
    """``scenarios/cancel/x.yaml`` for the library, else the path relative to the working dir."""
    resolved = path.resolve()
    library = scenarios_dir().resolve()
    if resolved.is_relative_to(library):
        return f"scenarios/{resolved.relative_to(library).as_posix()}"
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


# -- the JSON Schema -----------------------------------------------------------------------------


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path("scenario").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _check_schema(data: Any, doc: Document) -> None:
    error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(data))
    if error is not None:
        error, message = _explain(error)
        raise doc.error(tuple(error.absolute_path), message)


def _explain(error: jsonschema.ValidationError) -> tuple[jsonschema.ValidationError, str]:
    """The most useful error and message: inside ``anyOf``, the branch the value was meant for."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        deeper = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        if deeper:
            return _explain(jsonschema.exceptions.best_match(deeper) or deeper[0])
        types: list[str] = []
        for e in error.context:
            wanted = e.validator_value
            for name in [wanted] if isinstance(wanted, str) else list(wanted):
                if name not in types:
                    types.append(name)
        names = ", ".join(types[:-1]) + " or " + types[-1] if len(types) > 1 else "".join(types)
        return error, f"{error.instance!r} is not of type {names}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted((error.schema.get("properties") or {}).keys())
        if allowed:
            return error, f"{error.message}; allowed: {', '.join(allowed)}"
    return error, error.message


# -- meaning -------------------------------------------------------------------------------------


@dataclass
class _Builder:
    doc: Document
    catalogue: Catalogue
    fixtures: Mapping[str, Scenario] = field(default_factory=dict)
    _defaults: tuple[str, ...] = field(default=())

    def scenario(self, data: dict[str, Any], area: str | None) -> Scenario:
        requirements = tuple(data["requirements"])
        for i, rid in enumerate(requirements):
            self._requirement(rid, ("requirements", i))
        self._defaults = requirements
        for i, capability in enumerate(data.get("capabilities", [])):
            self._capability(capability, ("capabilities", i))
        variables = dict(data.get("vars", {}))
        defined = set(BUILTINS)
        uses, provided = self._fixtures_used(data)
        defined |= provided
        for name, value in variables.items():
            self._uses(value, defined, ("vars", name))
            defined.add(name)
        steps = self._steps(data["steps"], "steps", defined, set())
        saved = {s.name for step in steps for s in step.save}
        provides = tuple(data.get("provides", []))
        for i, name in enumerate(provides):
            if name not in saved:
                raise self.doc.error(("provides", i), f"no step saves {name!r}")
        for i, step in enumerate(steps):
            for save in step.save:
                if save.name in provided:
                    raise self.doc.error(
                        ("steps", i, "save", save.name),
                        f"{save.name!r} is what a fixture this scenario uses provides",
                    )
        creating = _creating_step(steps, self.catalogue)
        if uses and creating is not None:
            raise self.doc.error(
                ("uses",),
                "a scenario that uses a fixture shares its tenant with others, so it must not "
                f"create a journal run or entry (step {creating.name!r} writes without "
                "expecting a refusal)",
            )
        cleanup = self._steps(data.get("cleanup", []), "cleanup", defined | saved, set())
        if area is None:
            area = self.catalogue.requirements[requirements[0]].area
        return Scenario(
            id=data["id"],
            title=data["title"],
            requirements=requirements,
            steps=tuple(steps),
            cleanup=tuple(cleanup),
            capabilities=tuple(data.get("capabilities", [])),
            tags=tuple(data.get("tags", [])),
            description=data.get("description", ""),
            vars=variables,
            uses=uses,
            provides=provides,
            creates=creating is not None,
            area=area,
            display_path=self.doc.source,
        )

    def _fixtures_used(self, data: dict[str, Any]) -> tuple[tuple[str, ...], set[str]]:
        """The fixtures ``data`` uses, and the names they provide together."""
        uses = tuple(data.get("uses", []))
        if uses and data.get("provides"):
            raise self.doc.error(("uses",), "a fixture cannot use fixtures")
        provided: set[str] = set()
        for i, fixture_id in enumerate(uses):
            fixture = self.fixtures.get(fixture_id)
            if fixture is None:
                known = ", ".join(sorted(self.fixtures)) or "none"
                close = difflib.get_close_matches(fixture_id, list(self.fixtures), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.doc.error(
                    ("uses", i), f"no fixture {fixture_id!r} (fixtures: {known}){hint}"
                )
            provided |= set(fixture.provides)
        return uses, provided

    def _steps(
        self, raw: list[dict[str, Any]], key: str, defined: set[str], taken: set[str]
    ) -> list[Step]:
        steps: list[Step] = []
        defined = set(defined)
        for i, data in enumerate(raw):
            where: Path_ = (key, i)
            if data["name"] in taken:
                raise self.doc.error((*where, "name"), f"step name {data['name']!r} is used twice")
            taken.add(data["name"])
            step = self._step(data, where, defined)
            defined |= {save.name for save in step.save}
            steps.append(step)
        return steps

    def _step(self, data: dict[str, Any], where: Path_, defined: set[str]) -> Step:
        op_id = data["operation"]
        operation = self.catalogue.operations.get(op_id)
        if operation is None:
            known = ", ".join(sorted(self.catalogue.operations)) or "none"
            raise self.doc.error(
                (*where, "operation"), f"unknown operation {op_id!r} (the spec has: {known})"
            )
        given = dict(data.get("path_params", {}))
        for name in path_params(operation.path):
            if name not in given and "url" not in data:
                raise self.doc.error(
                    (*where, "path_params"),
                    f"{op_id} ({operation.method} {operation.path}) needs path parameter {name!r}",
                )
        for name in given:
            if name not in path_params(operation.path):
                raise self.doc.error(
                    (*where, "path_params", name),
                    f"{op_id} ({operation.method} {operation.path}) has no path parameter {name!r}",
                )
        if "body" in data and "raw_body" in data:
            raise self.doc.error((*where, "raw_body"), "give either body or raw_body, not both")
        if data.get("gzip_body") and "body" not in data and "raw_body" not in data:
            raise self.doc.error((*where, "gzip_body"), "gzip_body needs a body or raw_body")
        if "for_each" in data and "save" in data:
            raise self.doc.error((*where, "save"), "a for_each step cannot save values")
        inner = set(defined)
        for_each = None
        if "for_each" in data:
            spec = data["for_each"]
            self._uses(spec["in"], defined, (*where, "for_each", "in"))
            self._uses(spec.get("exclude", []), defined, (*where, "for_each", "exclude"))
            for_each = ForEach(spec["var"], spec["in"], tuple(spec.get("exclude", [])))
            inner.add(spec["var"])
        for key in (
            "url",
            "path_params",
            "query",
            "headers",
            "body",
            "raw_body",
            "expect",
            "repeat",
        ):
            if key in data:
                self._uses(data[key], inner, (*where, key))
        expect = self._block(data.get("expect", {}), (*where, "expect"), self._defaults)
        repeat = None
        if "repeat" in data:
            spec = data["repeat"]
            defaults = expect_defaults(data.get("expect", {})) or self._defaults
            until = self._block(spec["until"], (*where, "repeat", "until"), defaults)
            if not until:
                raise self.doc.error((*where, "repeat", "until"), "until needs an expectation")
            fail_fast = self._block(
                spec.get("fail_fast", {}), (*where, "repeat", "fail_fast"), until_defaults(until)
            )
            repeat = Repeat(
                until=until,
                fail_fast=fail_fast,
                deadline_s=float(spec.get("deadline_s", 60.0)),
                max_interval_s=float(spec.get("max_interval_s", 2.0)),
            )
        race = self._race(data, where, inner) if "race" in data else None
        if "method" not in data and "url" not in data:  # the operation's own answers
            for block in (expect, *((repeat.until, repeat.fail_fast) if repeat else ())):
                self._known_values(op_id, block, where)
        saves = []
        for name, raw in data.get("save", {}).items():
            at = (*where, "save", name)
            if isinstance(raw, str):
                target, source = "body", raw
            else:
                ((target, source),) = raw.items()
            if target == "header":
                saves.append(Save(name, "header", (source,), source))
            else:
                saves.append(Save(name, "body", self._path(source, at), source))
        return Step(
            name=data["name"],
            operation=op_id,
            method=data.get("method"),
            url=data.get("url"),
            path_params=given,
            query=dict(data.get("query", {})),
            headers={k: v for k, v in data.get("headers", {}).items() if not isinstance(v, dict)},
            headers_when=self._headers_when(data, where),
            body=data.get("body"),
            has_body="body" in data,
            raw_body=data.get("raw_body"),
            gzip_body=bool(data.get("gzip_body", False)),
            auth=bool(data.get("auth", True)),
            for_each=for_each,
            repeat=repeat,
            race=race,
            expect=expect,
            save=tuple(saves),
            description=data.get("description", ""),
            line=self.doc.line(where),
        )

    def _headers_when(self, data: dict[str, Any], where: Path_) -> dict[str, tuple[str, str]]:
        found = {}
        for name, value in data.get("headers", {}).items():
            if isinstance(value, dict):
                self._capability(value["when"], (*where, "headers", name, "when"))
                found[name] = (value["value"], value["when"])
        return found

    def _capability(self, name: str, at: Path_) -> None:
        if name not in CAPABILITIES:
            known = ", ".join(CAPABILITIES)
            raise self.doc.error(at, f"unknown capability {name!r} (known: {known})")

    def _race(self, data: dict[str, Any], where: Path_, defined: set[str]) -> Race:
        spec = data["race"]
        at = (*where, "race")
        self._capability(spec["held_by"], (*at, "held_by"))
        still = self._block(spec["still"], (*at, "still"), self._defaults)
        if not still:
            raise self.doc.error((*at, "still"), "still needs an expectation")
        read = None
        if "read" in spec:
            self._uses(spec["read"], defined, (*at, "read"))
            read = self._step(
                {"name": f"{data['name']}-read", **spec["read"]}, (*at, "read"), defined
            )
            if read.method is None and self.catalogue.operation(read.operation).method != "GET":
                raise self.doc.error((*at, "read", "operation"), "a race's read must be a GET")
        elif "repeat" not in data:
            raise self.doc.error(at, "a race needs a read, or a repeat whose polls it watches")
        return Race(still=still, held_by=spec["held_by"], read=read)

    def _block(self, data: dict[str, Any], where: Path_, defaults: tuple[str, ...]) -> ExpectBlock:
        if "requirement" in data:
            defaults = self._requirements(data["requirement"], (*where, "requirement"))
        found: list[Expectation] = []
        line = self.doc.line(where)
        if "status" in data:
            at = (*where, "status")
            raw = data["status"]
            reqs = defaults
            if isinstance(raw, int):
                allowed = [raw]
            elif isinstance(raw, list):
                allowed = list(raw)
            else:
                if ("equals" in raw) == ("in" in raw):
                    raise self.doc.error(at, "give exactly one of equals or in")
                allowed = [raw["equals"]] if "equals" in raw else list(raw["in"])
                if "requirement" in raw:
                    reqs = self._requirements(raw["requirement"], (*at, "requirement"))
            found.append(
                Expectation("status", (), {"in": allowed}, reqs, "status", self.doc.line(at))
            )
        if "error" in data:
            at = (*where, "error")
            raw = data["error"]
            categories = raw["category"] if isinstance(raw["category"], list) else [raw["category"]]
            reqs = defaults
            if "requirement" in raw:
                reqs = self._requirements(raw["requirement"], (*at, "requirement"))
            operators: dict[str, Any] = {"category": categories}
            if raw.get("any_body_on_401"):
                operators["any_body_on_401"] = True
            found.append(Expectation("error", (), operators, reqs, "error", self.doc.line(at)))
        for target, key in (("body", "body"), ("header", "headers")):
            for source, checks in data.get(key, {}).items():
                at = (*where, key, source)
                if target == "header":
                    path: tuple[str, ...] = (source,)
                else:
                    path = self._path(source, at)
                items = checks if isinstance(checks, list) else [checks]
                for i, check in enumerate(items):
                    check_at = (*at, i) if isinstance(checks, list) else at
                    found.append(self._check(target, path, source, check, check_at, defaults))
        return ExpectBlock(tuple(found), line)

    def _check(
        self,
        target: str,
        path: tuple[str, ...],
        source: str,
        check: dict[str, Any],
        at: Path_,
        defaults: tuple[str, ...],
    ) -> Expectation:
        operators = {k: v for k, v in check.items() if k != "requirement"}
        if not any(name in operators for name in OPERATORS):
            raise self.doc.error(at, f"needs an operator: one of {', '.join(OPERATORS)}")
        if "matches" in operators and "${" not in operators["matches"]:
            try:
                re.compile(operators["matches"])
            except re.error as exc:
                raise self.doc.error(
                    (*at, "matches"), f"invalid regular expression: {exc}"
                ) from None
        reqs = defaults
        if "requirement" in check:
            reqs = self._requirements(check["requirement"], (*at, "requirement"))
        kind = "header" if target == "header" else "body"
        return Expectation(kind, path, operators, reqs, source, self.doc.line(at))  # type: ignore[arg-type]

    def _known_values(self, op_id: str, block: ExpectBlock, where: Path_) -> None:
        """A literal a body expectation compares with must be one the spec allows there: a
        misspelt status (``CancelInProgress``) is a load error, not a wait that never ends."""
        for expectation in block.expectations:
            if expectation.target != "body":
                continue
            allowed = self.catalogue.response_values(op_id, expectation.path)
            if allowed is None:
                continue
            for name in ("equals", "not_equals", "in", "not_in"):
                raw = expectation.operators.get(name)
                for value in raw if isinstance(raw, list) else [raw]:
                    if isinstance(value, str) and "${" not in value and value not in allowed:
                        hint = difflib.get_close_matches(value, sorted(allowed), n=1)
                        near = f" (did you mean {hint[0]!r}?)" if hint else ""
                        raise ScenarioFormatError(
                            f"{self.doc.source}:{expectation.line}: {op_id} never answers "
                            f"{expectation.source} = {value!r}{near}; the spec allows "
                            f"{', '.join(sorted(allowed))}"
                        )

    def _path(self, source: str, at: Path_) -> tuple[str, ...]:
        try:
            return parse_path(source)
        except ValueError as exc:
            raise self.doc.error(at, str(exc)) from None

    def _requirements(self, raw: str | list[str], at: Path_) -> tuple[str, ...]:
        ids = [raw] if isinstance(raw, str) else list(raw)
        for i, rid in enumerate(ids):
            self._requirement(rid, at if isinstance(raw, str) else (*at, i))
        return tuple(ids)

    def _requirement(self, rid: str, at: Path_) -> None:
        if rid not in self.catalogue.requirements:
            raise self.doc.error(at, f"unknown requirement {rid!r} (not in the catalogue)")

    def _uses(self, value: Any, defined: set[str], at: Path_) -> None:
        for name in names_in(value):
            if name not in defined:
                known = ", ".join(sorted(defined))
                raise self.doc.error(
                    self._locate(value, name, at),
                    f"undefined variable ${{{name}}} (defined here: {known})",
                )
        for name, offset in offsets_in(value):
            if name not in DATED:
                raise self.doc.error(
                    self._locate(value, name, at),
                    f"${{{name}{offset}}}: only a date takes a day offset "
                    f"({', '.join(sorted(DATED))})",
                )

    def _locate(self, value: Any, name: str, at: Path_) -> Path_:
        """The deepest path under ``at`` whose value uses ``${name}``, for the line number."""
        if isinstance(value, Mapping):
            for key, item in value.items():
                if name in names_in(item):
                    return self._locate(item, name, (*at, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if name in names_in(item):
                    return self._locate(item, name, (*at, i))
        return at


def expect_defaults(data: Mapping[str, Any]) -> tuple[str, ...]:
    raw = data.get("requirement")
    if raw is None:
        return ()
    return (raw,) if isinstance(raw, str) else tuple(raw)


def until_defaults(until: ExpectBlock) -> tuple[str, ...]:
    ids: dict[str, None] = {}
    for expectation in until.expectations:
        ids.update(dict.fromkeys(expectation.requirement_ids))
    return tuple(ids)


def _creating_step(steps: Iterable[Step], catalogue: Catalogue) -> Step | None:
    """The first step that may create a journal run or entry: it writes without expecting a
    refusal (an ``error`` expectation, or only 4xx/5xx statuses allowed), unless it changes a
    number written in the file (the absent run a scenario addresses as "some run")."""
    for step in steps:
        method = (step.method or catalogue.operation(step.operation).method).upper()
        if method in SAFE_METHODS or step.expects_refusal:
            continue
        fixed = step.path_params and not any("${" in str(v) for v in step.path_params.values())
        if method in ("PUT", "DELETE") and fixed:
            continue
        return step
    return None


def _replace_path(scenario: Scenario, path: Path) -> Scenario:
    return replace(scenario, path=path)
