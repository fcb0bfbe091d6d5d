"""Fixtures for the scenario engine's tests: the catalogue, one reference server per module,
and a way to run scenarios (from the library or from YAML text) against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scenario_support import RunScenarios, parse

from conformance._catalogue import Catalogue, load_catalogue
from conformance._http import HttpSettings
from conformance._results import CheckResult
from conformance._tenants import FreshTenants
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.scenarios import Scenario, load_scenarios, run_scenarios


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def library(catalogue: Catalogue) -> list[Scenario]:
    return load_scenarios(catalogue=catalogue)


@pytest.fixture(scope="module")
def reference() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceSettings(delay=0)) as server:
        yield server


@pytest.fixture
def tenants(reference: ReferenceServer) -> Iterator[FreshTenants]:
    with FreshTenants(HttpSettings(base_url=reference.url, run_id="jrc-test")) as pool:
        yield pool


@pytest.fixture
def run(catalogue: Catalogue, tenants: FreshTenants) -> RunScenarios:
    """Run scenarios (objects, or YAML texts) on fresh reference tenants."""

    def go(*scenarios: Scenario | str, **options: object) -> list[CheckResult]:
        parsed = [parse(s, catalogue) if isinstance(s, str) else s for s in scenarios]
        return run_scenarios(catalogue, parsed, tenants, **options)  # type: ignore[arg-type]

    return go
