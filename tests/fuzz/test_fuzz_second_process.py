"""The fuzz stage with a second tenant: the stateful and legacy passes run in a second process
there, and what they judged is the stage's as if they had run here. A fault those passes find is
still found, an error of that process is an engine error (never a traceback or a hang), and the
stage's stop reaches it."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import MINTED, SMALL

from conformance import _processes
from conformance._catalogue import Catalogue
from conformance._results import Status
from conformance.fuzz import FuzzOptions, FuzzResult, FuzzTarget, SecondTenant, _away, fuzz
from conformance.reference import ReferenceServer, ReferenceSettings

Seen = list[tuple[str, str, int | None, Any]]


@contextmanager
def two_tenants(*faults: str) -> Iterator[tuple[FuzzTarget, FuzzTarget]]:
    """A fresh reference (with ``faults``) and a target on each of two of its tenants."""
    with ReferenceServer(ReferenceSettings(faults=frozenset(faults))) as server:
        targets = []
        for client in ("fuzz-home", "fuzz-away"):
            token = server.mint_token(client)
            MINTED.append(token)
            targets.append(FuzzTarget(server.url, headers={"Authorization": f"Bearer {token}"}))
        yield targets[0], targets[1]


def run(
    catalogue: Catalogue, *faults: str, options: FuzzOptions = SMALL, **kwargs: Any
) -> tuple[FuzzResult, Seen]:
    seen: Seen = []
    with two_tenants(*faults) as (home, away):
        second = SecondTenant(away, lambda *exchange: seen.append(exchange))
        return fuzz(catalogue, home, options, second=second, **kwargs), seen


@pytest.fixture(scope="module")
def split(catalogue: Catalogue) -> tuple[FuzzResult, Seen]:
    return run(catalogue)


def test_the_stateful_and_legacy_passes_run_on_the_second_tenant(
    split: tuple[FuzzResult, Seen], catalogue: Catalogue
) -> None:
    outcome, seen = split
    assert set(outcome.stop_reasons) == {"stateful", "main", "legacy"}
    assert outcome.second is not None and outcome.second.requests > 0
    assert outcome.requests > outcome.second.requests
    created = [path for method, path, status, _ in seen if method == "POST" and status == 200]
    assert any(path == "/v1/journal-runs" for path in created)  # the stateful pass's runs
    with two_tenants() as (home, _):
        alone = fuzz(catalogue, home, SMALL)
    assert {c.id: c.status for c in outcome.checks} == {c.id: c.status for c in alone.checks}
    assert {c.status for c in outcome.checks} == {Status.PASS}


def test_a_seed_still_sends_the_same_requests(
    split: tuple[FuzzResult, Seen], catalogue: Catalogue
) -> None:
    again, _ = run(catalogue)
    assert again.sent == split[0].sent


def test_a_fault_only_the_stateful_pass_sees_is_still_found(catalogue: Catalogue) -> None:
    outcome, _ = run(
        catalogue, "delete-completed", options=FuzzOptions(max_examples=2, legacy_examples=0)
    )
    delete = next(check for check in outcome.checks if check.id == "fuzz.delete-rule")
    assert delete.status is Status.FAIL
    assert "JR-DELETE-002" in {rid for a in delete.failed_assertions for rid in a.requirement_ids}


def test_an_error_of_the_second_process_is_an_engine_error(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the second process broke")

    # Forked, the process runs this module's patch.
    monkeypatch.setattr(_processes, "forks_safely", lambda: True)
    monkeypatch.setattr(_away, "run_passes", broken)
    outcome, seen = run(catalogue)
    engine = next(check for check in outcome.checks if check.id == "fuzz.engine")
    assert engine.status is Status.ERROR
    assert "stateful, legacy (second process): RuntimeError: the second process broke" in (
        engine.message
    )
    assert seen == [] and outcome.stop_reasons.keys() == {"main"}


def test_the_stages_stop_reaches_the_second_process(catalogue: Catalogue) -> None:
    stop = threading.Event()
    stop.set()
    outcome, _ = run(catalogue, stop=stop)
    assert outcome.stop_reasons["main"] == "interrupted"
    # Told to stop, it ended its pass under way (or had ended it): never an error.
    assert outcome.stop_reasons["stateful"] in ("interrupted", "completed")
    engine = next(check for check in outcome.checks if check.id == "fuzz.engine")
    assert engine.status is not Status.ERROR, engine.message
    assert not [p for p in multiprocessing.active_children() if p.name == "jr-fuzz-away"]


def test_where_a_fork_is_not_sound_a_fresh_interpreter_does_the_same(
    split: tuple[FuzzResult, Seen], catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_processes, "forks_safely", lambda: False)
    spawned, seen = run(catalogue)
    assert spawned.sent == split[0].sent
    assert {c.id: c.status for c in spawned.checks} == {c.id: c.status for c in split[0].checks}
    assert [exchange[:3] for exchange in seen] == [exchange[:3] for exchange in split[1]]


def test_a_stop_mid_pass_ends_the_pass_and_the_stage_still_reports(catalogue: Catalogue) -> None:
    stop = threading.Event()
    seen: Seen = []

    def observe(*exchange: Any) -> None:
        seen.append(exchange)
        if len(seen) == 20:
            stop.set()

    with two_tenants() as (home, _):
        outcome = fuzz(catalogue, home, SMALL, observe=observe, stop=stop)
    assert outcome.stop_reasons["stateful"] == "interrupted"
    assert outcome.stop_reasons.get("main", "interrupted") == "interrupted"
    engine = next(check for check in outcome.checks if check.id == "fuzz.engine")
    assert engine.status is Status.PASS, engine.message
