"""On a shared tenant the fuzz stage creates at most ``create_budget`` journal runs, and the passes
after the stateful one use schemathesis workers; invalid creates are still sent."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from conftest import reference_target

from conformance._catalogue import Catalogue
from conformance._results import Status
from conformance.fuzz import FuzzOptions, fuzz
from conformance.fuzz._budget import CreateBudget, _create, _valid_create
from conformance.fuzz._passes import passes


def _case(
    method: str = "POST", operation_id: str = "POST_JournalRun", negative: bool = False
) -> Any:
    raw = {"operationId": operation_id}
    operation = SimpleNamespace(method="POST", definition=SimpleNamespace(raw=raw))
    meta = SimpleNamespace(generation=SimpleNamespace(mode=SimpleNamespace(is_negative=negative)))
    return SimpleNamespace(method=method, operation=operation, meta=meta)


class _Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> Any:
        return self._body


def test_the_budget_counts_accepted_creates_and_lets_invalid_ones_through() -> None:
    budget = CreateBudget(2)
    first, second = _case(), _case()
    assert budget.filter_case(None, first) and budget.filter_case(None, second)
    # Two creates in flight: a third waits for their answers.
    assert not budget.filter_case(None, _case())
    budget.after_call(None, first, _Answer(400, {"success": False}))  # refused: not spent
    third = _case()
    assert budget.filter_case(None, third)
    budget.after_call(None, second, _Answer(200, {"success": True, "journalRunNumber": "JR-1"}))
    budget.after_call(None, third, _Answer(200, {"success": True, "journalRunNumber": "JR-2"}))
    assert budget.created == 2 and budget.spent
    assert not budget.filter_case(None, _case())
    assert budget.filter_case(None, _case(negative=True))  # must be refused: still sent
    assert budget.filter_case(None, _case(operation_id="GET_JournalRun", method="GET"))
    assert budget.withheld == 2


def test_workers_only_on_a_shared_tenant_and_never_in_the_stateful_pass() -> None:
    with reference_target() as target:
        shared = passes(target, FuzzOptions(shared_tenant=True, workers=4))
        own = passes(target, FuzzOptions(workers=4))
    assert [(p.name, p.workers) for p in shared] == [
        ("stateful", 1),
        ("main-create", 4),
        ("legacy-create", 4),
        ("main", 4),
        ("main-fuzzing", 4),
        ("legacy", 4),
        ("legacy-fuzzing", 4),
    ]
    assert {p.workers for p in own} == {1}


def test_on_a_shared_tenant_the_creates_go_first_and_the_rest_creates_nothing() -> None:
    """The passes that may create a journal run (the stateful one, and the create operation's
    part of the others) come first; the rest leave the create out, so they may run beside the
    scenarios. On the suite's own tenant nothing is split."""
    with reference_target() as target:
        shared = passes(target, FuzzOptions(shared_tenant=True))
        own = passes(target, FuzzOptions())
        read_only = passes(target, FuzzOptions(shared_tenant=True, read_only=True))
    flags = [p.creates_nothing for p in shared]
    assert flags == [False, False, False, True, True, True, True]
    assert [p.only for p in shared[1:3]] == [("POST_JournalRun",)] * 2
    assert [p.without for p in shared[3:]] == [("POST_JournalRun",)] * 4
    # Those go side by side, split by phase: the fuzzing phase apart from the others.
    assert [p.phases for p in shared[3:]] == [
        ("examples", "coverage"),
        ("fuzzing",),
        ("examples",),
        ("fuzzing",),
    ]
    assert not any(p.creates_nothing for p in own)
    assert all(p.creates_nothing for p in read_only)


def test_some_operations_keeps_the_named_ones_and_drops_the_links() -> None:
    from conformance._catalogue import load_catalogue
    from conformance.fuzz._spec_prep import operation_ids, prepare_spec, some_operations

    spec = prepare_spec(load_catalogue().spec)
    creates = some_operations(spec, only=("POST_JournalRun",))
    assert operation_ids(creates) == ["POST_JournalRun"]
    rest = some_operations(spec, without=("POST_JournalRun",))
    assert "POST_JournalRun" not in operation_ids(rest)
    assert set(operation_ids(rest)) | {"POST_JournalRun"} == set(operation_ids(spec))
    assert "links" not in str(rest)
    assert "links" in str(spec)  # the original is untouched


def test_the_stateful_pass_on_a_shared_tenant_has_one_scenario_per_budgeted_run() -> None:
    from conformance.fuzz._spec_prep import build_config

    with reference_target() as target:
        for shared, budget, wanted in ((True, 2, 2), (True, 0, 1), (False, 2, 10)):
            options = FuzzOptions(shared_tenant=shared, create_budget=budget, max_examples=5)
            config = build_config(
                {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}},
                target,
                options,
                zuora_version=None,
                phases=("stateful",),
                max_examples=5,
                max_time_s=None,
            )
            project = config.projects.default
            assert project.phases.stateful.generation.max_examples == wanted


def test_the_stateful_phase_draws_valid_requests_only() -> None:
    """It follows created runs through their lifecycle; the other phases send invalid requests
    (drawing both modes at every step was over half the stateful pass's cost)."""
    from schemathesis.generation.modes import GenerationMode

    from conformance.fuzz._spec_prep import build_config

    with reference_target() as target:
        config = build_config(
            {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}},
            target,
            FuzzOptions(),
            zuora_version=None,
            phases=("examples", "coverage", "fuzzing", "stateful"),
            max_examples=5,
            max_time_s=None,
        )
    project = config.projects.default
    assert project.generation_for(phase="stateful").modes == [GenerationMode.POSITIVE]
    assert set(project.generation_for(phase="fuzzing").modes) == set(GenerationMode)


def test_a_shared_tenant_gets_at_most_the_budget_of_valid_creates(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted: list[bool] = []  # per accepted create: was it a valid (positive) case?
    after_call = CreateBudget.after_call

    def spy(self: CreateBudget, context: Any, case: Any, response: Any) -> None:
        if _create(case) and response.status_code == 200 and b'"success":true' in response.content:
            accepted.append(_valid_create(case))
        after_call(self, context, case, response)

    monkeypatch.setattr(CreateBudget, "after_call", spy)
    options = FuzzOptions(
        max_examples=3,
        phases=("examples", "coverage", "fuzzing"),
        legacy_examples=1,
        shared_tenant=True,
        create_budget=1,
        workers=2,
    )
    with reference_target() as target:
        outcome = fuzz(catalogue, target, options)
    # One valid create; an invalid one the reference accepts (it ignores what it does not know)
    # may make a run too, and counts against the budget.
    assert accepted.count(True) == 1, accepted
    engine = {check.id: check for check in outcome.checks}["fuzz.engine"]
    assert engine.status is Status.PASS, engine.message
    assert "budget of runs on a shared tenant was spent" in engine.assertions[0].message
