"""Fixtures: made once per tenant, shared by every scenario that only reads them, cleaned once
by the run's cleanup stage; and the rule that decides who may share a tenant."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from scenario_support import RunScenarios, parse

from conformance import ScenarioFormatError
from conformance._catalogue import Catalogue
from conformance._config import load_config
from conformance._http import HttpSettings
from conformance._results import CheckResult, Status
from conformance._run import run
from conformance._tenants import FreshTenants
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.scenarios import Scenario, run_scenarios

READERS = ("entries-of-a-run", "retrieve-run-number-exact", "gzip-responses")


#: A request that names a run by its number (not the absent JR-99999999).
_RUN_URL = re.compile(r"/journal-runs/(JR-(?!99999999)\d{8})(?:/|\?|$)")


def _runs_read(result: CheckResult) -> set[str]:
    return {m.group(1) for e in result.evidence if (m := _RUN_URL.search(e.url))}


def test_a_fixture_is_made_once_and_shared(library: list[Scenario], run: RunScenarios) -> None:
    readers = [s for s in library if s.id in READERS]
    fixture, *dependents = run(*readers, concurrency=3)
    assert fixture.id == "completed-run" and "fixture" in fixture.tags
    assert sorted(r.id for r in dependents) == sorted(READERS)
    assert [r.status for r in (fixture, *dependents)] == [Status.PASS] * 4
    # One create for all three readers, the fixture's, and they all read its run.
    creates = [
        e
        for r in (fixture, *dependents)
        for e in r.evidence
        if e.method == "POST" and "/oauth/" not in e.url
    ]
    assert len(creates) == 1 and creates[0].url.endswith("/v1/journal-runs")
    (made,) = _runs_read(fixture)
    for result in dependents:
        assert _runs_read(result) == {made}, result.id


def test_the_run_cleans_the_fixture_once(tmp_path: Path) -> None:
    config = load_config({"select": list(READERS[:2]), "reports_dir": str(tmp_path)}, env={})
    result = run(config)
    assert result.status is Status.PASS, [c.message for c in result.checks]
    stages = {stage.name: stage for stage in result.stages}
    assert stages["scenarios"].runs_created == 1
    assert stages["cleanup"].requests > 0  # the fixture's run, cancelled and deleted there
    assert result.left_behind == []


@pytest.fixture
def faulty_tenants() -> Iterator[FreshTenants]:
    settings = ReferenceSettings(faults=frozenset({"create-number-field"}))
    with (
        ReferenceServer(settings) as server,
        FreshTenants(HttpSettings(base_url=server.url, run_id="jrc-test")) as tenants,
    ):
        yield tenants


def test_the_scenarios_of_a_broken_fixture_are_errors_naming_it(
    catalogue: Catalogue, library: list[Scenario], faulty_tenants: FreshTenants
) -> None:
    readers = [s for s in library if s.id in READERS[:2]]
    fixture, *dependents = run_scenarios(catalogue, readers, faulty_tenants)
    assert fixture.id == "completed-run" and fixture.status in (Status.FAIL, Status.ERROR)
    for result in dependents:
        assert result.status is Status.ERROR
        assert result.message.startswith("fixture completed-run did not pass")
        assert result.evidence == []  # nothing was sent for it


READER = """
id: reader
title: Reads the fixture's run
requirements: [JR-RETRIEVE-001]
uses: [{fixture}]
steps:
  - name: {step}
    operation: {operation}
    path_params: {{jr-number: "${{run}}"}}
{more}
"""


def _reader(
    fixture: str = "completed-run",
    step: str = "read",
    operation: str = "GET_JournalRun",
    more: str = "",
) -> str:
    return READER.format(fixture=fixture, step=step, operation=operation, more=more)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _reader(fixture="completed-runs"),
            "no fixture 'completed-runs' .*did you mean 'completed-run'",
        ),
        (
            _reader(more="    save: {run: /number}"),
            "'run' is what a fixture this scenario uses provides",
        ),
        (
            _reader(step="cancel", operation="PUT_JournalRun"),
            "uses a fixture shares its tenant .* must not create .*step 'cancel'",
        ),
    ],
)
def test_what_a_scenario_may_do_with_a_fixture(
    catalogue: Catalogue, text: str, message: str
) -> None:
    with pytest.raises(ScenarioFormatError, match=message):
        parse(text, catalogue)


def test_a_fixture_must_save_what_it_provides(catalogue: Catalogue) -> None:
    text = (
        _reader(more="    save: {number: /number}")
        .replace("uses: [completed-run]", "provides: [entry]")
        .replace("${run}", "JR-99999999")
    )
    with pytest.raises(ScenarioFormatError, match="no step saves 'entry'"):
        parse(text, catalogue)


@pytest.mark.parametrize(
    ("scenario_id", "creates"),
    [
        ("create-with-period", True),  # a create that expects success
        ("cancel-completed-run", True),
        ("create-required-fields", False),  # creates that expect refusals
        ("not-found-runs", False),  # changes only a number written in the file
        ("entries-of-a-run", False),  # reads a fixture
    ],
)
def test_who_may_share_a_tenant(library: list[Scenario], scenario_id: str, creates: bool) -> None:
    (scenario,) = [s for s in library if s.id == scenario_id]
    assert scenario.creates is creates


def test_the_idle_checks_create_is_the_completed_run_fixtures(catalogue: Catalogue) -> None:
    """The preflight's idle check sends exactly the fixture's create, so on an external tenant
    the fixture takes that run instead of making another (``Tenants.take`` matches the whole
    request: if the two drifted apart, the fixture would silently cost a run again)."""
    from conformance._preflight import canary_request
    from conformance._tenant_data import DOCUMENTS_DATA
    from conformance.scenarios import load_fixtures
    from conformance.scenarios._vars import Variables

    fixture = load_fixtures(catalogue)["completed-run"]
    create = fixture.steps[0]
    variables = Variables(run_id="jrc-test", scenario=fixture.id, tenant=DOCUMENTS_DATA)
    canary = canary_request(DOCUMENTS_DATA)
    operation = catalogue.operation(create.operation)
    assert (create.method or operation.method, operation.path) == (canary.method, canary.path)
    assert variables.resolve(create.body) == canary.json
    assert not create.headers and not create.query and not create.gzip_body
