"""The runner: verdicts and messages, polling that ends on time, cleanup, tenants in parallel."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from scenario_support import RunScenarios, parse

from conformance._catalogue import Catalogue
from conformance._http import ClientCredentials, HttpSettings
from conformance._results import Status
from conformance._tenants import FreshTenants, SharedTenant, Tenant
from conformance.reference import ReferenceServer
from conformance.scenarios import Scenario, run_scenarios

HELD_RUN = """
id: held
title: A run held in Processing
requirements: [JR-RETRIEVE-006]
capabilities: [reference-controls]
steps:
  - name: create
    operation: POST_JournalRun
    headers: {{X-Reference-Hold: "{hold}"}}
    body:
      accountingPeriodName: Nov-2014
      journalEntryDate: "2014-11-04"
      transactionTypes: [{{type: Invoice Item}}]
    expect:
      status: 200
    save:
      run: /journalRunNumber
  - name: wait
    operation: GET_JournalRun
    path_params: {{jr-number: "${{run}}"}}
    repeat:
      until: {{body: {{/status: {{equals: Completed}}}}}}
{fail_fast}      deadline_s: {deadline}
"""


def _held(hold: float, deadline: float, fail_fast: str = "", name: str = "held") -> str:
    text = HELD_RUN.format(hold=hold, deadline=deadline, fail_fast=fail_fast)
    return text.replace("id: held", f"id: {name}")


def test_a_broken_copy_fails_naming_its_requirement(
    library: list[Scenario], catalogue: Catalogue, run: RunScenarios
) -> None:
    """The partial-cancel example, edited to expect the run to end Cancelled."""
    original = next(s for s in library if s.id == "partial-cancel-jr-00000075")
    assert original.path is not None
    text = original.path.read_text(encoding="utf-8")
    broken = (
        text.replace("id: partial-cancel-jr-00000075", "id: partial-cancel-broken")
        .replace(
            "/status: {equals: Completed, requirement: JR-CANCEL-009}",
            "/status: {equals: Cancelled, requirement: JR-CANCEL-009}",
        )
        .replace(
            "/status: {in: [Cancelled, Error, DeleteInprogress], requirement: JR-CANCEL-009}",
            "/status: {in: [Completed, Error, DeleteInprogress], requirement: JR-CANCEL-009}",
        )
    )
    assert broken.count("Cancelled, requirement: JR-CANCEL-009") == 1
    (result,) = run(parse(broken, catalogue, "scenarios/cancel/partial-cancel-broken.yaml"))
    assert result.status is Status.FAIL
    failed = result.failed_assertions
    assert [a.requirement_ids for a in failed] == [("JR-CANCEL-009",)]
    message = result.message
    assert message.startswith("JR-CANCEL-009: step 'run-stays-completed' (GET_JournalRun): ")
    assert 'expected eventually /status equals "Cancelled"' in message
    assert "seen: Completed" in message
    # The evidence holds the exchange the failure judged, and every poll before it.
    judged = result.evidence[failed[0].exchange]  # type: ignore[index]
    assert judged.method == "GET" and '"status":"Completed"' in (judged.response_body or "")
    # The other steps of the example still passed on the way.
    assert {a.requirement_ids[0] for a in result.assertions if a.passed} >= {
        "JR-CANCEL-006",
        "JR-CANCEL-007",
        "JR-CANCEL-008",
    }


def test_polling_respects_its_deadline_with_a_fast_start(run: RunScenarios) -> None:
    started = time.monotonic()
    (result,) = run(_held(hold=30, deadline=0.6))
    elapsed = time.monotonic() - started
    assert result.status is Status.FAIL
    assert "not within 0.6 s" in result.message
    assert "seen: Processing" in result.message
    polls = sum(1 for e in result.evidence if e.method == "GET")
    # The backoff starts at 50 ms and grows with the time waited: several polls, not hundreds.
    assert 4 <= polls <= 20, polls
    assert elapsed < 3.0


def test_fail_fast_stops_the_wait_at_once(run: RunScenarios) -> None:
    fail_fast = "      fail_fast: {body: {/status: {equals: Processing}}}\n"
    started = time.monotonic()
    (result,) = run(_held(hold=30, deadline=60, fail_fast=fail_fast))
    assert time.monotonic() - started < 3.0
    assert result.status is Status.FAIL
    assert 'stopped waiting: /status equals "Processing" after 1 poll(s)' in result.message


def test_stopping_ends_a_wait_without_hanging(catalogue: Catalogue, tenants: FreshTenants) -> None:
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    try:
        started = time.monotonic()
        (result,) = run_scenarios(
            catalogue, [parse(_held(hold=30, deadline=60), catalogue)], tenants, stop=stop
        )
    finally:
        timer.cancel()
    assert time.monotonic() - started < 3.0
    assert result.status is Status.ERROR
    assert "stopped" in result.message


def test_a_wait_that_succeeds_records_what_it_saw(run: RunScenarios) -> None:
    (result,) = run(_held(hold=0.3, deadline=30))
    assert result.status is Status.PASS
    waited = [a for a in result.assertions if a.step == "wait" and "eventually" in a.description]
    assert len(waited) == 1
    assert "Completed" in waited[0].message and "poll(s)" in waited[0].message


def test_cleanup_always_runs(run: RunScenarios) -> None:
    text = """
    id: cleanup-runs
    title: The create expects the wrong status; cleanup still deletes
    requirements: [JR-CREATE-001]
    steps:
      - name: create
        operation: POST_JournalRun
        body:
          accountingPeriodName: Nov-2014
          journalEntryDate: "2014-11-04"
          transactionTypes: [{type: Invoice Item}]
        expect:
          status: 201
        save:
          run: /journalRunNumber
      - name: never-reached
        operation: GET_JournalRun
        path_params: {jr-number: "${run}"}
        save:
          other: /number
    cleanup:
      - name: cancel
        operation: PUT_JournalRun
        path_params: {jr-number: "${run}"}
      - name: never-saved
        operation: PUT_JournalRun
        path_params: {jr-number: "${other}"}
    """
    (result,) = run(text)
    assert result.status is Status.FAIL
    assert "expected HTTP status is 201; got HTTP 200" in result.message
    tracks = [e.request_headers.get("Zuora-Track-Id", "") for e in result.evidence]
    assert not any("never-reached" in t for t in tracks)
    assert any(t.endswith("cleanup-runs.cleanup.cancel") for t in tracks), tracks
    assert not any("never-saved" in t for t in tracks)  # ${other} was never saved: skipped
    # Cleanup judges nothing: the verdict comes from the steps alone.
    assert all("cleanup" not in (a.step or "") for a in result.assertions)


def test_a_missing_capability_skips_with_the_reason(
    catalogue: Catalogue, reference: ReferenceServer
) -> None:
    settings = HttpSettings(base_url=reference.url, run_id="jrc-test")
    with FreshTenants(settings, capabilities=("journal-entries",)) as tenants:
        (result,) = run_scenarios(catalogue, [parse(_held(1, 5), catalogue)], tenants)
    assert result.status is Status.SKIP
    assert (
        result.message == "needs capability reference-controls, which the target does not declare"
    )
    assert not result.evidence


def test_an_unreachable_target_is_an_error_not_a_failure(catalogue: Catalogue) -> None:
    settings = HttpSettings(base_url="http://127.0.0.1:9", run_id="jrc-test", timeout_s=2)
    with FreshTenants(settings) as tenants:
        (result,) = run_scenarios(catalogue, [parse(_held(1, 5), catalogue)], tenants)
    assert result.status is Status.ERROR
    assert "refused" in result.message or "connect" in result.message


def test_a_url_off_the_target_is_never_followed(run: RunScenarios) -> None:
    text = """
    id: elsewhere
    title: A nextPage pointing elsewhere
    requirements: [JR-ENTRIES-003]
    steps:
      - name: follow
        operation: GET_AllSummaryJournalEntries
        url: https://attacker.invalid/v1/journal-entries/journal-runs/JR-00000001
    """
    (result,) = run(text)
    assert result.status is Status.ERROR
    assert "is not on the target" in result.message
    assert not result.evidence


def test_nothing_asserted_is_an_error(run: RunScenarios) -> None:
    text = """
    id: nothing
    title: A for_each over an empty list
    requirements: [JR-ENTRIES-005]
    vars: {none: []}
    steps:
      - name: each
        operation: GET_SummaryJournalEntry
        path_params: {je-number: "${entry}"}
        for_each: {var: entry, in: "${none}"}
    """
    (result,) = run(text)
    assert result.status is Status.ERROR
    assert result.message == "the check asserted nothing"


def test_an_expectation_needing_an_unsaved_value_ends_the_scenario_as_an_error(
    run: RunScenarios,
) -> None:
    """A save that found nothing must not crash the engine when a later expectation uses it."""
    text = """
    id: unsaved
    title: An expectation names a value an earlier step could not save
    requirements: [JR-RETRIEVE-001]
    steps:
      - name: read
        operation: GET_JournalRun
        path_params: {jr-number: JR-00000001}
        save:
          run: /journalRunNumber
      - name: again
        operation: GET_JournalRun
        path_params: {jr-number: JR-00000001}
        expect:
          body: {/number: {equals: "${run}"}}
    """
    (result,) = run(text)
    assert result.status is Status.ERROR
    assert "step 'expectation'" in result.message and "run" in result.message


def test_scenarios_run_in_parallel_on_fresh_tenants(run: RunScenarios) -> None:
    """Each holds its run for 1 s; one run at a time per tenant would take 6 s in a row."""
    texts = [_held(hold=1, deadline=20, name=f"held-{i}") for i in range(6)]
    started = time.monotonic()
    results = run(*texts, concurrency=6)
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == [Status.PASS] * 6
    assert [r.id for r in results] == [f"held-{i}" for i in range(6)]  # in the order given
    assert elapsed < 4.0, elapsed


class _CountingTenant(SharedTenant):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.active = 0
        self.most = 0
        self._count = threading.Lock()

    @contextmanager
    def acquire(self, label: str, *, exclusive: bool = True) -> Iterator[Tenant]:
        with super().acquire(label, exclusive=exclusive) as tenant:
            with self._count:
                self.active += 1
                self.most = max(self.most, self.active)
            try:
                yield tenant
            finally:
                with self._count:
                    self.active -= 1


def test_one_shared_tenant_runs_one_scenario_at_a_time(
    catalogue: Catalogue, reference: ReferenceServer
) -> None:
    settings = HttpSettings(base_url=reference.url, run_id="jrc-test")
    auth = ClientCredentials("shared-tenant-0000-0000-000000000000", "reference-secret")
    texts = [_held(hold=0.2, deadline=20, name=f"shared-{i}") for i in range(3)]
    with _CountingTenant(settings, auth, capabilities=("reference-controls",)) as tenant:
        results = run_scenarios(
            catalogue, [parse(t, catalogue) for t in texts], tenant, concurrency=8
        )
    # The three runs share one tenant: only one executes at a time, so they must take turns
    # (a second create while the first is Processing would be refused).
    assert tenant.most == 1
    assert [r.status for r in results] == [Status.PASS] * 3


@pytest.mark.parametrize("concurrency", [1, 3])
def test_on_result_is_called_once_per_scenario(run: RunScenarios, concurrency: int) -> None:
    seen: list[str] = []
    texts = [_held(hold=0, deadline=20, name=f"cb-{i}") for i in range(3)]
    run(*texts, concurrency=concurrency, on_result=lambda r: seen.append(r.id))
    assert sorted(seen) == ["cb-0", "cb-1", "cb-2"]


def test_a_target_that_leaves_runs_processing_costs_one_deadline(run: RunScenarios) -> None:
    """Once a wait of the run has seen Processing outlast its deadline, later waits that see
    Processing stop after a short grace, naming the earlier one, instead of each waiting out
    its own deadline."""
    first = _held(hold=60, deadline=2, name="held-first")
    later = [_held(hold=60, deadline=60, name=f"held-{n}") for n in (2, 3)]
    results = run(first, *later, concurrency=1)
    assert [r.status for r in results] == [Status.FAIL] * 3
    assert "not within 2 s" in results[0].message
    for result in results[1:]:
        assert "not waiting out the deadline: still Processing" in result.message
        assert "scenario held-first, step 'wait', saw Processing for its whole 2 s" in (
            result.message
        )
        polls = sum(1 for e in result.evidence if e.method == "GET")
        assert polls <= 20, polls  # a second or so of polling, not 60 s of it


SHOULD_THEN_MUST = """
id: should-then-must
title: A SHOULD not met, then a MUST
requirements: [JR-HEADERS-004, JR-ERRORS-008]
steps:
  - name: should
    operation: GET_JournalRun
    path_params: {jr-number: JR-99999999}
    expect:
      headers: {X-Never-Sent: {equals: "yes", requirement: JR-HEADERS-004}}
  - name: must
    operation: GET_JournalRun
    path_params: {jr-number: JR-99999999}
    expect:
      error: {category: 40, requirement: JR-ERRORS-008}
"""


def test_a_should_not_met_is_a_warning_and_the_scenario_goes_on(run: RunScenarios) -> None:
    (result,) = run(SHOULD_THEN_MUST)
    assert result.status is Status.WARN
    assert [a.step for a in result.failed_assertions] == ["should"]
    assert any(a.step == "must" and a.passed for a in result.assertions)
    assert result.status_for("JR-ERRORS-008") is Status.PASS
