"""Running scenarios: steps, polling, variables, cleanup, and a thread pool over tenants.

Each scenario becomes one :class:`~conformance.CheckResult` (``kind="scenario"``): every
expectation an :class:`~conformance.Assertion` naming its requirements and the exchange it judged,
every exchange (each poll too) in the evidence. A step whose expectations fail ends the steps;
``cleanup`` always runs and never changes the verdict (its problems are noted in the message).
Every response of a step is also validated against the spec for its operation and status.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from .._catalogue import Catalogue
from .._envelope import is_accepted
from .._exceptions import ConformanceError, TransportError
from .._http import Request, Response
from .._ledger import UnsafeRequest
from .._results import Assertion, CheckResult, Status, advisory
from .._tenants import Tenant, Tenants
from .._validate import Problem, ResponseValidator, fill_path
from ._expect import NOT_JSON, Judged, Judgement, Observed, find, judge
from ._model import ExpectBlock, Scenario, Step
from ._polling import Polling, Stall, Stopped, TooFast, short
from ._vars import OffsetOutOfPeriod, UndefinedVariable, Variables

OnResult = Callable[[CheckResult], None]


def run_scenarios(
    catalogue: Catalogue,
    scenarios: Sequence[Scenario],
    tenants: Tenants,
    *,
    concurrency: int = 8,
    on_result: OnResult | None = None,
    stop: threading.Event | None = None,
) -> list[CheckResult]:
    """Run ``scenarios`` on ``tenants``; one result per scenario, in the order given.

    Independent scenarios run in parallel, each on its own tenant, up to ``concurrency`` at once
    (and no more than ``tenants.max_parallel``). ``on_result`` is called once per scenario as it
    finishes, never from two threads at once. Setting ``stop`` ends polling at once (cleanup still
    sends its requests).
    """
    context = _Context(catalogue, tenants, _validator(catalogue), stop or threading.Event())
    report_lock = threading.Lock()
    # The fixtures the scenarios use are made first, once, one after another; each is a check
    # of its own (its requirements are judged like any scenario's).
    runnable = [s for s in scenarios if not _lacking(context, s)]
    made = [_make_fixture(context, fixture) for fixture in _fixtures_needed(catalogue, runnable)]
    if on_result is not None:
        for check in made:
            on_result(check)
    results: list[CheckResult | None] = [None] * len(scenarios)

    def one(index: int) -> None:
        if context.stop.is_set():  # interrupted: start nothing new
            result = _not_started(scenarios[index])
        else:
            result = _run_one(context, scenarios[index])
        results[index] = result
        if on_result is not None:
            with report_lock:
                on_result(result)

    workers = max(1, min(concurrency, tenants.max_parallel or concurrency, len(scenarios) or 1))
    # What creates no journal run goes first: on a shared tenant those run side by side, then
    # the ones that create runs take the tenant one after another.
    order = sorted(range(len(scenarios)), key=lambda i: scenarios[i].creates)
    if workers == 1:
        for index in order:
            one(index)
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scenario")
        try:
            futures = [pool.submit(one, index) for index in order]
            for future in futures:
                future.result()
        except BaseException:
            context.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return made + [result for result in results if result is not None]


def _fixtures_needed(catalogue: Catalogue, scenarios: Sequence[Scenario]) -> list[Scenario]:
    from ._loader import load_fixtures

    wanted = dict.fromkeys(fixture for scenario in scenarios for fixture in scenario.uses)
    if not wanted:
        return []
    fixtures = load_fixtures(catalogue)
    return [fixtures[name] for name in wanted]


@dataclass
class _Made:
    """A fixture as made on the tenant: its check, and the values it saved (``None``: it did
    not pass, so there is nothing to give)."""

    check: CheckResult
    values: dict[str, Any] | None


def _make_fixture(context: _Context, fixture: Scenario) -> CheckResult:
    check = _new_check(fixture)
    started = time.monotonic()
    made: _ScenarioRun | None = None
    if _skip_if_lacking(context, fixture, check):
        pass
    elif context.stop.is_set():
        check.skip("not run: the run was interrupted")
    else:
        try:
            with context.tenants.acquire_for_fixture(fixture.id) as tenant:
                made = _ScenarioRun(context, fixture, tenant, check)
                made.run()
        except ConformanceError as exc:
            check.error(f"no tenant: {exc}")
    check.duration_s = time.monotonic() - started
    values: dict[str, Any] | None = None
    if check.settle(context.catalogue.levels) is Status.PASS and made is not None:
        if all(name in made.variables for name in fixture.provides):
            values = {name: made.variables.get(name) for name in fixture.provides}
        else:
            check.error(f"it did not save {', '.join(fixture.provides)}")
    context.fixtures[fixture.id] = _Made(check, values)
    return check


# -- shared by every scenario of a run -------------------------------------------------------------


@dataclass
class _Context:
    catalogue: Catalogue
    tenants: Tenants
    validator: ResponseValidator
    stop: threading.Event
    #: The first wait of this run that ran out its deadline with a run still in a state that
    #: ends by itself: a target that leaves runs there costs one deadline, not one per scenario.
    stall: Stall | None = None
    _stall_lock: threading.Lock = field(default_factory=threading.Lock)
    #: The fixtures made for this run of scenarios, by id.
    fixtures: dict[str, _Made] = field(default_factory=dict)

    def stalled(self, stall: Stall) -> None:
        with self._stall_lock:
            if self.stall is None:
                self.stall = stall

    def schema_requirements(
        self, operation_id: str, success: bool, problem: Problem | None = None
    ) -> tuple[str, ...]:
        """The requirement a response-schema violation fails: the catalogue says
        (:meth:`~conformance._blame.Blame.schema_violation`, the rule the fuzz stage uses too)."""
        path = problem.path if problem is not None else ()
        return (self.catalogue.blame.schema_violation(operation_id, success, path),)


_validators: dict[int, tuple[Catalogue, ResponseValidator]] = {}
_validators_lock = threading.Lock()


def _validator(catalogue: Catalogue) -> ResponseValidator:
    with _validators_lock:
        cached = _validators.get(id(catalogue))
        if cached is None or cached[0] is not catalogue:
            cached = (catalogue, ResponseValidator(catalogue.spec))
            _validators[id(catalogue)] = cached
        return cached[1]


# -- one scenario ----------------------------------------------------------------------------------


class _NotApplicable(Exception):
    """The scenario needs tenant data the configuration does not give (it is skipped)."""


class _Abort(Exception):
    """The scenario cannot go on (no verdict): becomes an ERROR with this message."""


def _new_check(scenario: Scenario) -> CheckResult:
    return CheckResult(
        id=scenario.id,
        title=scenario.title,
        kind="scenario",
        area=scenario.area,
        requirement_ids=scenario.requirements,
        tags=(*scenario.tags, "fixture") if scenario.is_fixture else scenario.tags,
    )


def _lacking(context: _Context, scenario: Scenario) -> list[str]:
    """The capabilities ``scenario`` needs that the target does not declare."""
    return [c for c in scenario.capabilities if c not in context.tenants.capabilities]


def _skip_if_lacking(context: _Context, scenario: Scenario, check: CheckResult) -> bool:
    """Skip ``check`` when the target lacks a capability ``scenario`` needs; whether it did."""
    missing = _lacking(context, scenario)
    if missing:
        names = ", ".join(missing)
        check.skip(f"needs capability {names}, which the target does not declare", needs=missing)
    return bool(missing)


def _fixture_values(context: _Context, scenario: Scenario, check: CheckResult) -> dict[str, Any]:
    """The values of the fixtures ``scenario`` uses; when one is missing, ``check`` says why
    (skipped like it, or an error: the scenario cannot be judged without it)."""
    values: dict[str, Any] = {}
    for name in scenario.uses:
        made = context.fixtures[name]
        if made.values is not None:
            values.update(made.values)
        elif made.check.status is Status.SKIP:
            check.skip(f"fixture {name} was not made: {made.check.message}", needs=made.check.needs)
        else:
            check.error(f"fixture {name} did not pass ({made.check.message}): see its check")
    return values


def _run_one(context: _Context, scenario: Scenario) -> CheckResult:
    check = _new_check(scenario)
    started = time.monotonic()
    values: dict[str, Any] = {}
    if not _skip_if_lacking(context, scenario, check):
        values = _fixture_values(context, scenario, check)
    if check.status not in (Status.SKIP, Status.ERROR):  # not lacking, nor missing a fixture
        try:
            with context.tenants.acquire(scenario.id, exclusive=scenario.creates) as tenant:
                # It may have waited its turn on a shared tenant while the run was stopped.
                if context.stop.is_set():
                    check.skip("not run: the run was interrupted")
                else:
                    _ScenarioRun(context, scenario, tenant, check, fixtures=values).run()
        except ConformanceError as exc:  # the tenant could not be set up
            check.error(f"no tenant: {exc}")
        else:
            if tenant.left_behind:
                left = ", ".join(f"{i.number} ({i.status})" for i in tenant.left_behind)
                note = f"left behind: {left}"
                check.message = f"{check.message} ({note})" if check.message else note
    check.duration_s = time.monotonic() - started
    check.settle(context.catalogue.levels)
    return check


def _not_started(scenario: Scenario) -> CheckResult:
    check = _new_check(scenario)
    check.skip("not run: the run was interrupted")
    return check


@dataclass
class _ScenarioRun(Polling):
    context: _Context
    scenario: Scenario
    tenant: Tenant
    check: CheckResult
    #: The values of the fixtures the scenario uses, by name.
    fixtures: dict[str, Any] = field(default_factory=dict)
    variables: Variables = field(init=False)
    cleanup_notes: list[str] = field(default_factory=list)
    #: Variables a step could not save, and why (for the message when a later step needs one).
    unsaved: dict[str, str] = field(default_factory=dict)
    in_cleanup: bool = False

    def __post_init__(self) -> None:
        self.variables = Variables(
            run_id=self.context.tenants.run_id,
            scenario=self.scenario.id,
            tenant=self.context.tenants.data,
        )
        for name, value in self.fixtures.items():
            self.variables[name] = value

    def run(self) -> None:
        check = self.check
        try:
            for name, value in self.scenario.vars.items():
                overrides = self.context.tenants.variables
                self.variables[name] = (
                    overrides[name] if name in overrides else self._resolve(value)
                )
            for step in self.scenario.steps:
                if not self._step(step):
                    break
        except UnsafeRequest as exc:  # the target holds something this run must not touch
            check.skip(f"not run to the end against this target: {exc}")
        except TooFast as exc:
            check.skip(str(exc), needs=exc.needs)
        except _NotApplicable as exc:
            check.skip(str(exc))
        except OffsetOutOfPeriod as exc:
            check.error(str(exc))
        except (TransportError, _Abort) as exc:
            check.error(str(exc))
        except Stopped:
            check.error("stopped before the scenario finished")
        except ConformanceError as exc:  # e.g. the token could not be fetched
            check.error(f"{type(exc).__name__}: {exc}")
        finally:
            self._cleanup()
        if self.cleanup_notes:
            note = "cleanup: " + "; ".join(self.cleanup_notes)
            check.message = f"{check.message} ({note})" if check.message else note

    # -- steps ---------------------------------------------------------------------------------

    def _cleanup(self) -> None:
        self.in_cleanup = True
        for step in self.scenario.cleanup:
            try:
                self._step(step)
            except _Skip:
                continue
            except (ConformanceError, _Abort, Stopped) as exc:
                self.cleanup_notes.append(f"{step.name}: {exc}")

    def _step(self, step: Step) -> bool:
        """Run ``step`` (each item of its ``for_each``); ``False`` when an expectation failed."""
        if step.for_each is None:
            return self._once(step, step.name)
        items = self._resolve(step.for_each.items)
        if not isinstance(items, list):
            raise _Abort(f"step {step.name!r}: for_each needs a list, got {short(items)}")
        excluded = self._resolve(list(step.for_each.exclude))
        ok = True
        for index, item in enumerate(x for x in items if x not in excluded):
            self.variables[step.for_each.var] = item
            ok = self._once(step, f"{step.name}[{index}]") and ok
            if not ok:
                break
        return ok

    def _once(self, step: Step, label: str) -> bool:
        request = self._request(step, label)
        schema = _SchemaTally()
        if step.repeat is not None:
            race = step.race if self._racing(step) else None
            response, observed, ok = self._poll(step, label, request, step.repeat, schema, race)
        else:
            response = self._send(request, label)
            observed = self._observe(response)
            schema.add(self.context.validator, step.operation, response, observed)
            ok = True
        if ok:
            outcomes = self._judge(step.expect, observed)
            # A SHOULD or MAY not met is recorded (a warning) but does not end the scenario:
            # the MUST checks after it still judge the server.
            levels = self.context.catalogue.levels
            ok = all(
                outcome.passed or advisory(requirements, levels)
                for requirements, outcome in outcomes
            )
            if not ok and step.race is not None and step.race.read and self._racing(step):
                self._still(step, step.race, label)  # raises when the state ended by itself
            for requirements, outcome in outcomes:
                self._record(requirements, outcome, label, step, response)
        if not self.in_cleanup:
            self._record_schema(schema, step, label)
        # Saved even when an expectation failed: cleanup needs what a server made regardless.
        self._save(step, label, observed)
        return ok

    def _request(self, step: Step, label: str) -> Request:
        try:
            operation = self.context.catalogue.operation(step.operation)
            headers = self._resolve(step.headers)
            for name, (value, capability) in step.headers_when.items():
                if capability in self.context.tenants.capabilities:
                    headers[name] = self._resolve(value)
            content: bytes | None = None
            body: Any = None
            if step.raw_body is not None:
                content = str(self._resolve(step.raw_body)).encode("utf-8")
                if not any(name.lower() == "content-type" for name in headers):
                    headers["Content-Type"] = "application/json"
            elif step.has_body:
                body = self._resolve(step.body)
                if body is None:  # a literal JSON null
                    content = b"null"
                    headers.setdefault("Content-Type", "application/json")
            path = self._url(step, label) if step.url else None
            return Request(
                method=step.method or operation.method,
                path=path or fill_path(operation.path, self._resolve(step.path_params)),
                params=self._resolve(step.query) or None,
                headers=headers or None,
                json=body,
                content=content,
                gzip_body=step.gzip_body,
                auth=step.auth,
            )
        except UndefinedVariable as exc:
            raise self._unresolvable(exc, label) from None

    def _unresolvable(self, exc: UndefinedVariable, label: str) -> Exception:
        """What a step that needs a value nothing saved does: in cleanup it is skipped (what it
        would clean up was never made); otherwise the scenario ends as an error saying why."""
        if self.in_cleanup:
            return _Skip()
        if exc.name.startswith("tenant."):  # the tenant's data lacks it: nothing to judge with
            return _NotApplicable(f"not run: {exc}")
        why = self.unsaved.get(exc.name)
        return _Abort(f"step {label!r}: {exc}" + (f" ({why})" if why else ""))

    def _url(self, step: Step, label: str) -> str:
        """The step's ``url``: a path, or an absolute URL on the target itself (never elsewhere:
        the session would send it the credentials)."""
        url = str(self._resolve(step.url))
        base = self.tenant.session.settings.base_url.rstrip("/")
        if url.startswith("/"):
            return base + url
        if url == base or url.startswith(base + "/") or url.startswith(base + "?"):
            return url
        raise _Abort(f"step {label!r}: {url!r} is not on the target ({base}); not following it")

    def _send(self, request: Request, label: str) -> Response:
        if self.scenario.is_fixture:  # the idle check's create may be this one: judged, not resent
            given = self.context.tenants.take(self.tenant.key, request)
            if given is not None:
                return replace(given, exchange_index=self.check.add_exchange(given.exchange))
        track = f"scenario.{self.scenario.id}.{label}"
        if self.in_cleanup:
            track = f"scenario.{self.scenario.id}.cleanup.{label}"
        return self.tenant.session.do(request, check=self.check, track=track)

    def _observe(self, response: Response) -> Observed:
        try:
            body: Any = json.loads(response.content) if response.content else NOT_JSON
        except ValueError:
            body = NOT_JSON
        sent = response.exchange.request_headers
        version = next((v for k, v in sent.items() if k.lower() == "zuora-version"), None)
        return Observed(
            status=response.status_code,
            headers=dict(response.headers.items()),
            body=body,
            zuora_version=version,
            default_style=self.context.tenants.error_style,
        )

    # -- judging and recording -------------------------------------------------------------------

    def _resolved(self, block: ExpectBlock) -> ExpectBlock:
        try:
            expectations = tuple(
                replace(e, operators=self._resolve(e.operators)) for e in block.expectations
            )
        except UndefinedVariable as exc:  # an expectation names a value an earlier step lacked
            raise self._unresolvable(exc, "expectation") from None
        return replace(block, expectations=expectations)

    def _judge(
        self, block: ExpectBlock, observed: Observed, *, resolved: bool = False
    ) -> list[Judged]:
        block = block if resolved else self._resolved(block)
        return [judged for e in block.expectations for judged in judge(e, observed)]

    def _record(
        self,
        requirements: tuple[str, ...],
        outcome: Judgement,
        label: str,
        step: Step,
        response: Response,
    ) -> None:
        message = ""
        if not outcome.passed:
            message = (
                f"{', '.join(requirements)}: step {label!r} ({step.operation}): "
                f"expected {outcome.description}; {outcome.detail}"
            )
        if self.in_cleanup:
            if not outcome.passed:
                self.cleanup_notes.append(
                    f"{label}: expected {outcome.description}; {outcome.detail}"
                )
            return
        self.check.record(
            Assertion(
                description=outcome.description,
                requirement_ids=requirements,
                passed=outcome.passed,
                expected=outcome.expected,
                actual=outcome.actual,
                message=message or outcome.detail,
                step=label,
                exchange=response.exchange_index,
            )
        )

    def _record_schema(self, schema: _SchemaTally, step: Step, label: str) -> None:
        if not schema.checked:
            return
        bad = schema.first_invalid
        response = bad[0] if bad else schema.last
        success = bad[2] if bad else schema.last_success
        problem = bad[1][0] if bad and bad[1] else None
        requirements = self.context.schema_requirements(step.operation, success, problem)
        if not requirements:
            return
        count = f"{schema.checked} responses" if schema.checked > 1 else "the response"
        description = f"{count} match the spec ({', '.join(schema.responses)})"
        message = ""
        problems: list[str] = []
        if bad:
            problems = [str(problem) for problem in bad[1]]
            message = (
                f"{', '.join(requirements)}: step {label!r} ({step.operation}): the response "
                f"does not match the spec: {'; '.join(problems)}"
            )
        assert response is not None
        self.check.record(
            Assertion(
                description=description,
                requirement_ids=requirements,
                passed=not bad,
                expected=", ".join(schema.responses),
                actual=problems or None,
                message=message,
                step=label,
                exchange=response.exchange_index,
            )
        )

    def _save(self, step: Step, label: str, observed: Observed) -> None:
        for save in step.save:
            if save.target == "header":
                value: Any = observed.header(save.path[0])
                found = value is not None
            else:
                matches = find(observed.body, save.path) if observed.body is not NOT_JSON else []
                found = bool(matches) or "*" in save.path
                value = matches if "*" in save.path else (matches[0] if matches else None)
            if found:
                self.variables[save.name] = value
                self.unsaved.pop(save.name, None)
            else:
                self.unsaved[save.name] = f"step {label!r} found nothing at {save.source}"

    def _resolve(self, value: Any) -> Any:
        return self.variables.resolve(value)


_JSON_TYPE = re.compile(r"^\s*application/([\w.+-]+\+)?json\s*(;|$)", re.IGNORECASE)


class _Skip(Exception):
    """A cleanup step refers to something that was never made: nothing to clean."""


@dataclass
class _SchemaTally:
    """The spec verdicts of the responses of one step (several when it polls)."""

    checked: int = 0
    responses: list[str] = field(default_factory=list)
    first_invalid: tuple[Response, tuple[Problem, ...], bool] | None = None
    last: Response | None = None
    last_success: bool = True

    def add(
        self, validator: ResponseValidator, operation: str, response: Response, observed: Observed
    ) -> None:
        body = observed.body
        verdict = validator.validate(
            operation,
            response.status_code,
            None if body is NOT_JSON else body,
            is_json=body is not NOT_JSON,
        )
        if not verdict.checked:
            return
        content_type = response.headers.get("Content-Type", "")
        if body is not NOT_JSON and not _JSON_TYPE.match(content_type):
            # The spec declares every answer application/json: JSON under another label is not.
            label = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
            problem = Problem((), f"{label}, not application/json as the spec declares")
            verdict = replace(verdict, problems=(*verdict.problems, problem))
        success = is_accepted(response.status_code, None if body is NOT_JSON else body)
        self.checked += 1
        self.last, self.last_success = response, success
        if verdict.response not in self.responses:
            self.responses.append(verdict.response)
        if not verdict.valid and self.first_invalid is None:
            self.first_invalid = (response, verdict.problems, success)
