"""The scenario library as an Arazzo 1.0.1 document, for third-party runners (Redocly ``respect``).

:func:`build_arazzo` is pure: scenarios, the catalogue and the tenant's data in, a document (a
plain ``dict``) out, with what could not be translated. :func:`write_arazzo` writes it next to a
copy of the OpenAPI spec its ``sourceDescriptions`` names by relative path.

How the format maps (``scenarios/README.md`` has the format, the README what does not translate):

- a scenario is a workflow (``workflowId`` = scenario id); its requirement IDs are in the
  description and in ``x-requirements``;
- a step calls its ``operationId``; path parameters, query, headers and the JSON body become
  ``parameters`` and ``requestBody``; the suite's default headers (``Zuora-Version`` and the
  bearer token) are sent as header parameters;
- ``expect`` becomes ``successCriteria``: the status as ``$statusCode``, body checks as RFC 9535
  JSONPath filters over ``$response.body`` (``*`` as a ``count(...) == 0`` of the items that do
  not pass), ``matches`` as a ``regex`` criterion, headers as simple conditions;
- ``repeat`` becomes ``onFailure``: an ``end`` action whose criteria are the ``fail_fast``
  expectations, then a ``retry`` with an explicit ``retryAfter`` and ``retryLimit`` (the deadline
  over the interval: Redocly reads an omitted ``retryLimit`` as 0, the spec as 1);
- ``save`` becomes step ``outputs``, and ``${run}`` ``$steps.<step>.outputs.run``;
- the scenario's ``vars`` and every ``${tenant.…}`` value become workflow ``inputs`` whose
  defaults are computed at export time from the tenant's data (date offsets included), so a
  runner may pass other values with ``--input``; the bearer token is the input ``token``;
- a fixture's steps (``uses``) come first; ``cleanup`` steps, then the four steps that settle,
  cancel and delete each journal run a step created (the suite's run ledger does that), come
  last (Arazzo has no ``finally``);
- a step the runner cannot send leaves its scenario out, with the reason, unless it expects a
  refusal (which changes nothing on the server): then only the step is left out.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._catalogue import Catalogue
from .._exceptions import UsageError
from .._resources import SPEC_FILE, spec_path
from .._tenant_data import TenantData
from ..scenarios import Expectation, ExpectBlock, Repeat, Scenario, Step, load_fixtures
from ..scenarios._vars import UndefinedVariable, Variables
from ._criteria import (
    ENVELOPE,
    TEMPLATE,
    WHOLE,
    Criteria,
    all_of,
    any_of,
    jp_literal,
    json_type,
    pointer,
    unique,
)

#: The Arazzo version written: the one Redocly CLI's ``respect`` runs.
ARAZZO_VERSION = "1.0.1"
#: The name of the one source description (the spec), as ``respect --server NAME=URL`` takes it.
SOURCE_NAME = "journalRuns"
#: Seconds between polls: the suite's polls grow from 40 ms to ``max_interval_s``; Arazzo's retry
#: has one fixed interval, so this, or ``max_interval_s`` when that is shorter.
RETRY_AFTER_S = 0.5
#: The input holding the bearer token.
TOKEN_INPUT = "token"
#: What ``${run_id}`` becomes (the suite's run id, which marks what a run created).
RUN_ID = "arazzo"

#: The error envelope's fields: a refusal has them, so a step that expects one may save them.


@dataclass(frozen=True)
class LeftOut:
    """A scenario not exported, and why."""

    scenario: str
    reason: str


@dataclass
class ArazzoExport:
    """An exported document and what the export could not carry over."""

    document: dict[str, Any]
    left_out: list[LeftOut] = field(default_factory=list)
    #: Workflow id -> the expectations it does not check (no Arazzo criterion expresses them).
    not_checked: dict[str, list[str]] = field(default_factory=dict)

    @property
    def workflow_ids(self) -> list[str]:
        return [str(w["workflowId"]) for w in self.document.get("workflows", [])]


class _Untranslatable(Exception):
    """The scenario cannot be run faithfully by an Arazzo runner (the message says why)."""


class _Unsendable(_Untranslatable):
    """A step's request is one an Arazzo runner cannot send (the message says why)."""


# -- the document ----------------------------------------------------------------------------------


def build_arazzo(
    scenarios: Sequence[Scenario],
    catalogue: Catalogue,
    tenant: TenantData,
    *,
    zuora_version: str | None = "2024-05-20",
    spec_url: str = SPEC_FILE,
    title: str = "Journal Runs conformance scenarios",
    version: str = "1.0.0",
) -> ArazzoExport:
    """The Arazzo document for ``scenarios``; those that cannot be translated are left out
    (listed in ``x-not-exported`` and :attr:`ArazzoExport.left_out`), never half-exported."""
    export = ArazzoExport(document={})
    workflows: list[dict[str, Any]] = []
    for scenario in scenarios:
        translator = _Workflow(scenario, catalogue, tenant, zuora_version)
        try:
            workflows.append(translator.build())
        except _Untranslatable as exc:
            export.left_out.append(LeftOut(scenario.id, str(exc)))
            continue
        if translator.not_checked:
            export.not_checked[scenario.id] = translator.not_checked
    document: dict[str, Any] = {
        "arazzo": ARAZZO_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Exported by jr-conformance from its scenario library. Run with Redocly CLI: "
                f"redocly respect <this file> --server {SOURCE_NAME}=<base URL> "
                f"--input {TOKEN_INPUT}=<bearer token>. Tenant values are workflow inputs whose "
                f"defaults were computed at export time ({tenant.describe()})."
            ),
        },
        "sourceDescriptions": [{"name": SOURCE_NAME, "url": spec_url, "type": "openapi"}],
        "workflows": workflows,
    }
    if export.left_out:
        document["x-not-exported"] = [
            {"scenario": item.scenario, "reason": item.reason} for item in export.left_out
        ]
    export.document = document
    return export


def write_arazzo(export: ArazzoExport, output: Path) -> Path:
    """Write the document (YAML) to ``output`` and the spec it names next to it; the spec's
    path is returned. A problem writing is a :class:`UsageError` naming the path."""
    spec_copy = output.parent / SPEC_FILE
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(
            export.document,
            sort_keys=False,
            allow_unicode=True,
            width=100,
            default_flow_style=False,
        )
        output.write_text(text, encoding="utf-8")
        if spec_copy.resolve() != spec_path().resolve():
            shutil.copyfile(spec_path(), spec_copy)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc}") from None
    return spec_copy


# -- one workflow ---------------------------------------------------------------------------------


class _Workflow(Criteria):
    def __init__(
        self,
        scenario: Scenario,
        catalogue: Catalogue,
        tenant: TenantData,
        zuora_version: str | None,
    ) -> None:
        self.scenario = scenario
        self.catalogue = catalogue
        self.tenant = tenant
        self.zuora_version = zuora_version
        self.values = Variables(run_id=RUN_ID, scenario=scenario.id, tenant=tenant)
        #: Input name -> its default (computed now from the tenant's data).
        self.inputs: dict[str, Any] = {}
        #: Variable -> the runtime expression that holds it.
        self.refs: dict[str, str] = {}
        self.not_checked: list[str] = []
        self.step_ids: set[str] = set()
        #: Saved variables Arazzo cannot have (the step expects a refusal, so the value is
        #: missing, and Redocly fails a step whose output reaches nothing).
        self.unsaved: dict[str, str] = {}
        #: Saved variables that hold an object or a list (no JSONPath literal compares them).
        self.containers: set[str] = set()
        self.container_names = _container_names(catalogue.spec)
        self.fixtures = load_fixtures(catalogue) if scenario.uses else {}
        #: Variables holding the number of a journal run a step created (for the cleanup).
        self.created: list[str] = []

    def build(self) -> dict[str, Any]:
        scenario = self.scenario
        for name, value in scenario.vars.items():
            self.inputs[name] = self._default(value, f"vars.{name}")
            self.refs[name] = f"$inputs.{name}"
            self.values[name] = self.inputs[name]
            if isinstance(self.inputs[name], dict | list):
                self.containers.add(name)
        steps: list[dict[str, Any]] = []
        # A fixture the suite makes once per tenant and shares: here its steps come first.
        for fixture_id in scenario.uses:
            fixture = self.fixtures.get(fixture_id)
            if fixture is None:
                raise _Untranslatable(f"uses the fixture {fixture_id!r}, which is not there")
            for name, value in fixture.vars.items():
                self.inputs[name] = self._default(value, f"{fixture_id}: vars.{name}")
                self.refs[name] = f"$inputs.{name}"
                self.values[name] = self.inputs[name]
            for step in fixture.steps:
                steps.append(self._step(step, cleanup=False, prefix=f"{fixture_id}-"))
        for step in scenario.steps:
            try:
                steps.append(self._step(step, cleanup=False))
            except _Unsendable as exc:
                # A refusal changes nothing on the server: leaving one out leaves the flow
                # as it was. Any other step the runner cannot send leaves the scenario out.
                if not step.expects_refusal:
                    raise
                self.not_checked.append(f"{exc} (a refusal: the step is left out)")
                for save in step.save:
                    self.unsaved[save.name] = f"which step {step.name!r} is left out"
        if not steps:
            raise _Untranslatable("no step can be sent by an Arazzo runner")
        for step in scenario.cleanup:
            missing = sorted(set(_names(step)) & set(self.unsaved))
            if missing:
                self.not_checked.append(
                    f"cleanup step {step.name!r} left out: it needs ${{{missing[0]}}}, "
                    f"{self.unsaved[missing[0]]}"
                )
                continue
            steps.append(self._step(step, cleanup=True))
        # The suite's run ledger cleans up what a scenario created; a runner has none, and one
        # tenant takes one journal run at a time: each created run is settled, cancelled and
        # deleted here, as the scenarios' own cleanup blocks did.
        cleaned = {name for step in scenario.cleanup for name in _names(step)}
        for name in self.created:
            if name not in cleaned:
                steps += [self._step(step, cleanup=True) for step in _run_cleanup(name)]
        requirements = list(scenario.all_requirement_ids())
        description = scenario.title
        if scenario.description:
            description += "\n\n" + scenario.description.strip()
        description += "\n\nRequirements: " + ", ".join(requirements)
        if scenario.cleanup:
            description += (
                "\n\nThe last steps (cleanup-*) leave the tenant as it was; they run only when "
                "every step before them passed."
            )
        properties: dict[str, Any] = {
            TOKEN_INPUT: {
                "type": "string",
                "format": "password",
                "description": "the bearer token (Authorization: Bearer <token>)",
            }
        }
        for name, default in self.inputs.items():
            properties[name] = {"type": json_type(default), "default": default}
        workflow: dict[str, Any] = {
            "workflowId": scenario.id,
            "summary": scenario.title,
            "description": description,
            "x-requirements": requirements,
            "inputs": {"type": "object", "properties": properties, "required": [TOKEN_INPUT]},
            "steps": steps,
        }
        if scenario.tags:
            workflow["x-tags"] = list(scenario.tags)
        if self.not_checked:
            workflow["x-not-checked"] = list(self.not_checked)
        return workflow

    # -- values ------------------------------------------------------------------------------

    def _default(self, value: Any, where: str) -> Any:
        """``value`` with its templates filled in now (tenant data, built-ins, earlier vars)."""
        try:
            return self.values.resolve(value)
        except UndefinedVariable as exc:
            raise _Untranslatable(f"{where}: {exc}") from None
        except ValueError as exc:  # an offset outside its period
            raise _Untranslatable(f"{where}: {exc}") from None

    def _ref(self, name: str, offset: str | None, where: str) -> str:
        """The runtime expression for ``${name}``: an input, or an earlier step's output."""
        if not offset and name in self.refs:
            return self.refs[name]
        if name.startswith("tenant.") or name in ("today",):
            input_name = name.replace(".", "_")
            if offset:
                days = int(offset)
                input_name += f"_{'plus' if days >= 0 else 'minus'}_{abs(days)}"
            if input_name not in self.inputs:
                try:
                    self.inputs[input_name] = self.values.get(name, offset)
                except UndefinedVariable as exc:
                    raise _Untranslatable(f"{where}: {exc}") from None
                except ValueError as exc:
                    raise _Untranslatable(f"{where}: {exc}") from None
            return f"$inputs.{input_name}"
        if name in self.unsaved:
            raise _Untranslatable(f"{where} needs ${{{name}}}, {self.unsaved[name]}")
        raise _Untranslatable(f"{where}: ${{{name}}} has no Arazzo equivalent")

    def _payload(self, value: Any, where: str) -> Any:
        """``value`` for a parameter or a body: templates become runtime expressions."""
        if isinstance(value, str):
            whole = WHOLE.match(value)
            if whole:
                if whole.group(1) in ("uuid", "run_id", "scenario"):
                    return self._default(value, where)
                return self._ref(whole.group(1), whole.group(2), where)
            return TEMPLATE.sub(lambda m: self._embedded(m, where), value)
        if isinstance(value, Mapping):
            return {
                self._payload(key, where): self._payload(item, where) for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._payload(item, where) for item in value]
        return value

    def _embedded(self, match: re.Match[str], where: str) -> str:
        if not match.group(1):
            return "$"
        name, offset = match.group(1), match.group(2)
        if name in ("uuid", "run_id", "scenario"):
            return str(self._default(match.group(0), where))
        return "{" + self._ref(name, offset, where) + "}"

    def _operand(self, value: Any, where: str) -> tuple[str, bool] | None:
        """``value`` as a JSONPath literal, or an embedded ``{$…}`` expression; ``None``: no
        literal expresses it (an object, a list, a partial template). The flag: a template."""
        if isinstance(value, str):
            whole = WHOLE.match(value)
            if whole:
                if whole.group(1) in ("uuid", "run_id", "scenario"):
                    fixed = jp_literal(self._default(value, where))
                    return None if fixed is None else (fixed, False)
                if whole.group(1) in self.containers:
                    return None
                return "{" + self._ref(whole.group(1), whole.group(2), where) + "}", True
            if TEMPLATE.search(value):
                return None
        literal = jp_literal(value)
        return None if literal is None else (literal, False)

    # -- steps ---------------------------------------------------------------------------------

    def _step(self, step: Step, *, cleanup: bool, prefix: str = "") -> dict[str, Any]:
        step_id = f"cleanup-{step.name}" if cleanup else prefix + step.name
        if step.save:
            # Redocly's outputs-defined rule keys step ids across the whole document: a step
            # whose outputs later steps use gets an id no other workflow has.
            step_id = f"{step_id}--{self.scenario.id}"
        where = f"step {step.name!r}" if not cleanup else f"cleanup step {step.name!r}"
        for what, present in (
            ("a raw (non-JSON) body", step.raw_body is not None),
            ("a gzip-compressed body", step.gzip_body),
            (f"the method {step.method} the operation does not have", step.method is not None),
            ("a URL instead of the operation's path", step.url is not None),
            ("for_each over a saved list", step.for_each is not None),
            ("a JSON null body", step.has_body and step.body is None),
            (
                "no Accept-Encoding (Redocly's HTTP client always sends one)",
                any(k.lower() == "accept-encoding" and v is None for k, v in step.headers.items()),
            ),
            ("an empty JSON object body (Redocly sends none)", step.has_body and step.body == {}),
            (
                "a parameter with leading or trailing spaces (Redocly trims them)",
                any(
                    isinstance(v, str) and v != v.strip()
                    for v in [*step.path_params.values(), *step.query.values()]
                ),
            ),
        ):
            if present:
                raise _Unsendable(f"{where} sends {what}")
        missing = sorted(set(_names(step)) & set(self.unsaved))
        if missing:
            raise _Untranslatable(f"{where} needs ${{{missing[0]}}}, {self.unsaved[missing[0]]}")
        self.catalogue.operation(step.operation)  # the loader checked it; never a guess
        out: dict[str, Any] = {"stepId": step_id, "operationId": step.operation}
        if step.description:
            out["description"] = step.description.strip()
        parameters = self._parameters(step, where)
        if parameters:
            out["parameters"] = parameters
        if step.has_body:
            out["requestBody"] = {
                "contentType": "application/json",
                "payload": self._payload(step.body, where),
            }
        version = self._version(step)
        if cleanup:
            criteria = self._cleanup_wait(step, where)
            if criteria:
                out["successCriteria"] = criteria
                out["onFailure"] = [self._retry(step)]
        else:
            criteria = []
            if step.repeat is not None:
                criteria += self._criteria(step.repeat.until, version, where, "until")
            criteria += self._criteria(step.expect, version, where, "expect")
            criteria = unique(criteria)
            if criteria:
                out["successCriteria"] = criteria
            if step.repeat is not None:
                actions: list[dict[str, Any]] = []
                if step.repeat.fail_fast:
                    made = [
                        self._criterion(e, version, where)
                        for e in step.repeat.fail_fast.expectations
                    ]
                    stop = [c for m in made if m is not None for c in m]
                    if all(m is not None for m in made):
                        actions.append({"name": "fail-fast", "type": "end", "criteria": stop})
                    else:
                        self.not_checked.append(
                            f"{where}: fail_fast not exported (waits until the retry limit)"
                        )
                actions.append(self._retry(step))
                out["onFailure"] = actions
        outputs = self._outputs(step, step_id, where)
        if outputs:
            out["outputs"] = outputs
        self.step_ids.add(step_id)
        return out

    def _version(self, step: Step) -> str | None:
        for name, value in step.headers.items():
            if name.lower() == "zuora-version":
                return None if value is None else str(self._default(value, "headers"))
        return self.zuora_version

    def _parameters(self, step: Step, where: str) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = []
        for name, value in step.path_params.items():
            parameters.append({"name": name, "in": "path", "value": self._payload(value, where)})
        for name, value in step.query.items():
            parameters.append({"name": name, "in": "query", "value": self._payload(value, where)})
        headers: dict[str, Any] = {}
        if self.zuora_version is not None:
            headers["Zuora-Version"] = self.zuora_version
        if step.auth:
            headers["Authorization"] = "Bearer {$inputs." + TOKEN_INPUT + "}"
        # Headers the suite sends only to a target with a capability (the reference's hold
        # headers): sent, as the embedded reference gets them; a server ignores unknown headers.
        sent: dict[str, str | None] = {k: v for k, (v, _) in step.headers_when.items()}
        sent.update(step.headers)
        for name, value in sent.items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            if value is not None:
                headers[name] = self._payload(value, where)
        for name, value in headers.items():
            parameters.append({"name": name, "in": "header", "value": value})
        return parameters

    def _outputs(self, step: Step, step_id: str, where: str) -> dict[str, str]:
        outputs: dict[str, str] = {}
        refused = step.expects_refusal
        for save in step.save:
            if refused and (save.target != "body" or save.path[:1] not in ENVELOPE):
                self.unsaved[save.name] = f"which step {step.name!r} saves only if not refused"
                continue
            if save.target == "header":
                outputs[save.name] = f"$response.header.{save.path[0]}"
            elif "*" in save.path:
                raise _Untranslatable(f"{where} saves a list ({save.source}) for later steps")
            else:
                outputs[save.name] = "$response.body#" + pointer(save.path)
            self.refs[save.name] = f"$steps.{step_id}.outputs.{save.name}"
            if step.operation == "POST_JournalRun" and save.path == ("journalRunNumber",):
                self.created.append(save.name)
            if save.target == "body" and save.path and save.path[-1] in self.container_names:
                self.containers.add(save.name)
        return outputs

    def _retry(self, step: Step) -> dict[str, Any]:
        assert step.repeat is not None
        after = min(RETRY_AFTER_S, step.repeat.max_interval_s)
        limit = max(1, math.ceil(step.repeat.deadline_s / after)) if after > 0 else 1
        return {"name": "poll", "type": "retry", "retryAfter": after, "retryLimit": limit}

    def _cleanup_wait(self, step: Step, where: str) -> list[dict[str, Any]]:
        """A cleanup wait: poll until ``until`` or ``fail_fast`` holds (one JSONPath filter);
        cleanup otherwise checks nothing."""
        if step.repeat is None:
            return []
        until = [self._filter(e, where) for e in step.repeat.until.expectations]
        stop = [self._filter(e, where) for e in step.repeat.fail_fast.expectations]
        parts = [all_of([f for f in fs if f]) for fs in (until, stop) if fs]
        if any(f is None for f in until + stop) or not parts:
            self.not_checked.append(f"{where}: not waited for (no JSONPath filter expresses it)")
            return []
        condition = "$[?" + any_of(parts) + "]"
        return [{"context": "$response.body", "condition": condition, "type": "jsonpath"}]


# -- helpers --------------------------------------------------------------------------------------


def _run_cleanup(name: str) -> tuple[Step, ...]:
    """The four steps that leave the tenant without the run ``${name}``."""

    def block(path: tuple[str, ...], operators: dict[str, Any]) -> ExpectBlock:
        return ExpectBlock((Expectation("body", path, operators, ()),))

    run = {"jr-number": f"${{{name}}}"}
    status = ("status",)
    return (
        Step(
            name=f"settle-{name}",
            operation="GET_JournalRun",
            path_params=run,
            repeat=Repeat(
                until=block(status, {"not_in": ["Pending", "Processing", "CancelInprogress"]}),
                fail_fast=block(("success",), {"equals": False}),
                deadline_s=120,
            ),
        ),
        Step(name=f"cancel-{name}", operation="PUT_JournalRun", path_params=run),
        Step(
            name=f"wait-cancelled-{name}",
            operation="GET_JournalRun",
            path_params=run,
            repeat=Repeat(
                until=block(status, {"equals": "Cancelled"}),
                fail_fast=block(status, {"not_in": ["CancelInprogress"], "optional": True}),
                deadline_s=60,
            ),
        ),
        Step(name=f"delete-{name}", operation="DELETE_JournalRun", path_params=run),
    )


def _names(step: Step) -> list[str]:
    """The variables a step's request uses."""
    from ..scenarios._vars import names_in

    when = {name: value for name, (value, _) in step.headers_when.items()}
    used = [step.path_params, step.query, dict(step.headers), when, step.body, step.url]
    return list(names_in(used))


def _container_names(spec: Any) -> set[str]:
    """Property names the spec types as an array or an object (or a ``$ref``) somewhere."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, schema in (node.get("properties") or {}).items():
                if isinstance(schema, dict) and (
                    schema.get("type") in ("array", "object")
                    or "$ref" in schema
                    or "items" in schema
                ):
                    found.add(str(name))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found
