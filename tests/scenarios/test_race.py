"""States a real server shows by itself for a while (Processing, CancelInprogress): judged
whenever they are observed, skipped with the reason when the server was too fast, and judged
strictly where the target holds them (reference-controls)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance._catalogue import Catalogue
from conformance._http import ClientCredentials, HttpSettings
from conformance._ledger import Ledger
from conformance._results import CheckResult, Status
from conformance._tenants import (
    DEFAULT_CAPABILITIES,
    REFERENCE_CAPABILITIES,
    Protection,
    SharedTenant,
)
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.scenarios import Scenario, run_scenarios

RACING = (
    "cancel-refused-while-cancelling",
    "retrieve-status-names",
)


def _run(
    catalogue: Catalogue,
    library: list[Scenario],
    settings: ReferenceSettings,
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES,
) -> Iterator[CheckResult]:
    """The racing scenarios on one tenant of a reference, as on a sandbox: with a ledger, so
    each hands the tenant back clean (no run of one is still executing for the next)."""
    scenarios = [s for s in library if s.id in RACING]
    auth = ClientCredentials("race-tenant-0000-0000-000000000000", "reference-secret")
    with (
        tempfile.TemporaryDirectory() as folder,
        ReferenceServer(settings) as server,
        SharedTenant(
            HttpSettings(base_url=server.url, run_id="jrc-test"), auth, capabilities=capabilities
        ) as tenant,
    ):
        ledger = Ledger(Path(folder) / "ledger.jsonl", run_id="jrc-test", base_url=server.url)
        tenant.protect(Protection(ledger, foreign=False, cleanup_wait_s=30))
        yield from run_scenarios(catalogue, scenarios, tenant)


def test_none_of_them_needs_reference_controls(library: list[Scenario]) -> None:
    for scenario in library:
        if scenario.id in RACING:
            assert "reference-controls" not in scenario.capabilities, scenario.id


def test_on_a_slow_server_they_are_judged(catalogue: Catalogue, library: list[Scenario]) -> None:
    results = list(_run(catalogue, library, ReferenceSettings(delay=0.4)))
    assert sorted(r.id for r in results) == sorted(RACING)
    for result in results:
        assert result.status is Status.PASS, (result.id, result.message)
    processing = next(r for r in results if r.id == "retrieve-status-names")
    judged = {i for a in processing.assertions if a.passed for i in a.requirement_ids}
    assert {"JR-CANCEL-002", "JR-DELETE-002", "JR-CREATE-011", "JR-RETRIEVE-003"} <= judged
    # No hold header went to a target without reference-controls.
    sent = [h.lower() for r in results for e in r.evidence for h in e.request_headers]
    assert not [h for h in sent if h.startswith("x-reference-")]


def test_on_a_fast_server_they_are_skipped_saying_why(
    catalogue: Catalogue, library: list[Scenario]
) -> None:
    results = list(_run(catalogue, library, ReferenceSettings(delay=0)))
    for result in results:
        assert result.status is Status.SKIP, (result.id, result.status, result.message)
        assert result.message.startswith("not judged: the target was too fast"), result.message
        assert result.needs == ("reference-controls", "a slower server")


@pytest.mark.parametrize(
    ("fault", "scenario_id"),
    [
        ("cancel-from-processing", "retrieve-status-names"),
        ("concurrent-runs", "retrieve-status-names"),
    ],
)
def test_where_the_target_holds_the_state_a_fault_fails(
    catalogue: Catalogue, library: list[Scenario], fault: str, scenario_id: str
) -> None:
    settings = ReferenceSettings(delay=0, faults=frozenset({fault}))
    results = {r.id: r for r in _run(catalogue, library, settings, REFERENCE_CAPABILITIES)}
    assert results[scenario_id].status is Status.FAIL, results[scenario_id].message
