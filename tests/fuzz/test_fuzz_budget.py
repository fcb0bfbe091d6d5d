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
    assert [(p.name, p.workers) for p in shared] == [("stateful", 1), ("main", 4), ("legacy", 4)]
    assert {p.workers for p in own} == {1}


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
