"""The bundled library: well-formed, traceable, and passing against the reference server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from conformance._catalogue import AREAS, Catalogue
from conformance._results import CheckResult, Status
from conformance._tenant_data import DOCUMENTS_PERIOD, DOCUMENTS_SECOND_PERIOD, TenantData
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.scenarios import CAPABILITIES, Scenario

#: Scenarios the reference server is known to fail, and why. Each must really fail (so the entry
#: goes when the reference is fixed).
REFERENCE_GAPS: dict[str, str] = {}
#: The library has scenarios in every area of the catalogue.
AREAS_IN_LIBRARY = set(AREAS)
#: Testable MUSTs no scenario checks (the fuzz stage does; tests/test_run.py checks the union).
NOT_IN_SCENARIOS: set[str] = set()


#: The reference tenant's earliest allowed target date, and the suite is told it, so every
#: scenario runs (those of the earliest date skip without it: test_boundaries.py).
EARLIEST = dt.date(2014, 11, 1)


@pytest.fixture(scope="module")
def reference() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceSettings(delay=0, earliest_date=EARLIEST.isoformat())) as server:
        yield server


@pytest.fixture(scope="module")
def results(
    library: list[Scenario], catalogue: Catalogue, reference: object
) -> dict[str, CheckResult]:
    from conformance._http import HttpSettings
    from conformance._tenants import FreshTenants
    from conformance.scenarios import run_scenarios

    url = reference.url  # type: ignore[attr-defined]
    with FreshTenants(HttpSettings(base_url=url, run_id="jrc-lib")) as tenants:
        tenants.data = TenantData(DOCUMENTS_PERIOD, DOCUMENTS_SECOND_PERIOD, EARLIEST)
        return {r.id: r for r in run_scenarios(catalogue, library, tenants, concurrency=8)}


def test_the_library_covers_every_area_and_observable_must(
    library: list[Scenario], catalogue: Catalogue
) -> None:
    assert {s.area for s in library} == AREAS_IN_LIBRARY
    named = {rid for s in library for rid in s.all_requirement_ids()}
    musts = {r.id for r in catalogue.requirements.values() if r.level == "MUST" and r.testable}
    assert musts - named == NOT_IN_SCENARIOS
    assert all(c in CAPABILITIES for s in library for c in s.capabilities)


def test_every_scenario_passes_against_the_reference(results: dict[str, CheckResult]) -> None:
    problems = [
        f"{r.id}: {r.status.label}: {r.message}"
        for r in results.values()
        if r.status is not Status.PASS and r.id not in REFERENCE_GAPS
    ]
    assert not problems, "\n".join(problems)
    for gap in REFERENCE_GAPS:
        assert results[gap].status is Status.FAIL, f"{gap} passes now: drop it from REFERENCE_GAPS"


def test_every_assertion_names_known_requirements_and_its_exchange(
    results: dict[str, CheckResult], catalogue: Catalogue
) -> None:
    for result in results.values():
        assert result.assertions, result.id
        for assertion in result.assertions:
            assert assertion.requirement_ids, (result.id, assertion.description)
            assert set(assertion.requirement_ids) <= catalogue.requirements.keys()
            assert assertion.step
            assert assertion.exchange is not None
            assert 0 <= assertion.exchange < len(result.evidence)


def test_the_partial_cancel_example(results: dict[str, CheckResult]) -> None:
    """The cancel document's JR-00000075 example, step by step, on a fresh run."""
    result = results["partial-cancel-jr-00000075"]
    assert result.status is Status.PASS
    example = {f"JR-CANCEL-00{n}" for n in range(5, 10)}
    assert example <= set(result.all_requirement_ids())
    by_step: dict[str, set[str]] = {}
    for assertion in result.assertions:
        step = (assertion.step or "").split("[")[0]
        by_step.setdefault(step, set()).update(assertion.requirement_ids)
    assert "JR-CANCEL-006" in by_step["cancel"]
    assert "JR-CANCEL-007" in by_step["transferred-stays-created"]
    assert "JR-CANCEL-008" in by_step["others-cancelled"]
    assert "JR-CANCEL-009" in by_step["run-stays-completed"]
    # Ten entries: nine were each waited for until Cancelled.
    waited = {
        a.step for a in result.assertions if a.step and a.step.startswith("others-cancelled[")
    }
    assert len(waited) >= 9
    final = [a for a in result.assertions if a.step == "run-stays-completed"]
    assert any(a.actual == "Completed" for a in final)


def test_evidence_keeps_secrets_out(results: dict[str, CheckResult]) -> None:
    for result in results.values():
        for exchange in result.evidence:
            authorization = exchange.request_headers.get("Authorization", "")
            assert authorization in ("", "Bearer [REDACTED]") or result.area == "auth", (
                result.id,
                authorization,
            )
            assert "reference-secret" not in (exchange.request_body or "")
