"""The boundaries table of scenarios/README.md names checks that exist, at exactly the values it
says; the earliest-date scenarios skip with the reason when the tenant data lacks the date."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance._catalogue import Catalogue
from conformance._results import Status
from conformance._tenant_data import DOCUMENTS_PERIOD, DOCUMENTS_SECOND_PERIOD, TenantData
from conformance._tenants import FreshTenants
from conformance.fuzz import fuzz_checks
from conformance.reference import FAULTS
from conformance.scenarios import Scenario, run_scenarios
from conformance.scenarios._vars import Variables

README = Path(__file__).resolve().parents[2] / "scenarios" / "README.md"
_REQUIREMENT = re.compile(r"JR-[A-Z]+-\d{3}")
_TICKED = re.compile(r"`([^`]+)`")
#: Cells that name no check say why.
_NO_CHECK = ("not checked", "—")


def _rows() -> list[dict[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Boundaries\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["rule", "source", "requirements", "inside", "outside", "faults"]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(header), line
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


ROWS = _rows()


def _checks(cell: str) -> Iterator[str]:
    for ticked in _TICKED.findall(cell):
        if "#" in ticked or ticked.startswith("fuzz."):
            yield ticked


def test_the_table_covers_the_numbers_of_the_issue() -> None:
    rules = " ".join(row["rule"] for row in ROWS)
    for number in ("64", "255", "1000", "300", "8", "2000", "earliest"):
        assert re.search(rf"\b{number}\b", rules), number


@pytest.mark.parametrize("row", ROWS, ids=[row["rule"][:40] for row in ROWS])
def test_every_row_names_checks_that_exist_and_check_its_requirements(
    row: dict[str, str], library: list[Scenario], catalogue: Catalogue
) -> None:
    requirements = set(_REQUIREMENT.findall(row["requirements"]))
    assert requirements and requirements <= catalogue.requirements.keys(), row["requirements"]
    scenarios = {scenario.id: scenario for scenario in library}
    fuzz = {check.id: check for check in fuzz_checks()}
    for side in ("inside", "outside"):
        cell = row[side]
        named = list(_checks(cell))
        assert named or cell.startswith(_NO_CHECK), f"{side} of {row['rule']!r} names no check"
        for check in named:
            if check.startswith("fuzz."):
                assert check in fuzz, check
                assert requirements & set(fuzz[check].requirement_ids), check
                continue
            scenario_id, step = check.split("#")
            assert scenario_id in scenarios, f"no scenario {scenario_id}"
            scenario = scenarios[scenario_id]
            assert step in {s.name for s in scenario.steps}, f"{scenario_id} has no step {step}"
            assert requirements & set(scenario.all_requirement_ids()), check
    faults = _TICKED.findall(row["faults"])
    assert faults or row["faults"] == "—"
    assert set(faults) <= FAULTS.keys(), faults


def test_the_tag_marks_exactly_the_scenarios_the_table_names(library: list[Scenario]) -> None:
    named = {
        check.split("#")[0]
        for row in ROWS
        for side in ("inside", "outside")
        for check in _checks(row[side])
        if "#" in check
    }
    tagged = {scenario.id for scenario in library if "boundaries" in scenario.tags}
    assert tagged == named


def test_every_boundary_fault_is_in_the_table() -> None:
    named = {fault for row in ROWS for fault in _TICKED.findall(row["faults"])}
    for fault in (
        "track-id-63",
        "idempotency-key-254",
        "idempotency-key-unbounded",
        "gzip-over-2000",
        "page-size-299",
        "page-size-clamped",
        "page-zero-served",
        "notes-1999",
        "earliest-date-exclusive",
        "earliest-date-ignored",
        "numbers-all-legacy",
    ):
        assert fault in named, fault


# -- the values at the boundaries are exactly the ones the table says ----------------------------

#: (scenario, step, where in the step, the length or number the value must have).
EXACT: tuple[tuple[str, str, str, int], ...] = (
    ("track-id-echo", "sixty-four-characters", "headers/Zuora-Track-Id", 64),
    ("track-id-invalid-not-echoed", "too-long", "headers/Zuora-Track-Id", 65),
    ("track-id-invalid-refused-should", "too-long", "headers/Zuora-Track-Id", 65),
    ("idempotency-replay", "create", "headers/Idempotency-Key", 255),
    ("idempotency-replay", "repeat", "headers/Idempotency-Key", 255),
    ("idempotency-key-too-long-should", "key-of-256", "headers/Idempotency-Key", 256),
    ("gzip-threshold-should", "create", "body/notes", 1001),
    ("entries-manual-create", "create", "body/notes", 2000),
    ("entries-manual-create", "notes-too-long", "body/notes", 2001),
    ("entries-basic-information", "update-notes", "body/notes", 2000),
    ("entries-basic-information", "notes-too-long", "body/notes", 2001),
    ("create-period-rules", "period-name-101", "body/accountingPeriodName", 101),
)
NUMBERS: tuple[tuple[str, str, str, int], ...] = (
    ("entries-pagination", "one-big-page", "query/pageSize", 300),
    ("entries-pagination", "one-big-page", "query/page", 1),
    ("entries-page-parameters-should", "page-size-301", "query/pageSize", 301),
    ("entries-page-parameters-should", "page-zero", "query/page", 0),
)


def _value(scenario: Scenario, step_name: str, where: str) -> Any:
    step = next(s for s in scenario.steps if s.name == step_name)
    part, key = where.split("/")
    values = Variables(run_id="jrc-test", scenario=scenario.id, tenant=_TENANT)
    for name, value in scenario.vars.items():
        values[name] = values.resolve(value)
    container = {"headers": step.headers, "body": step.body, "query": step.query}[part]
    return values.resolve(container[key])


_TENANT = TenantData(DOCUMENTS_PERIOD, DOCUMENTS_SECOND_PERIOD, dt.date(2014, 11, 1))


@pytest.mark.parametrize(("scenario_id", "step", "where", "length"), EXACT)
def test_the_values_have_exactly_the_boundary_length(
    library: list[Scenario], scenario_id: str, step: str, where: str, length: int
) -> None:
    scenario = next(s for s in library if s.id == scenario_id)
    value = _value(scenario, step, where)
    assert isinstance(value, str) and len(value) == length, (scenario_id, step, len(value))


@pytest.mark.parametrize(("scenario_id", "step", "where", "number"), NUMBERS)
def test_the_numbers_are_exactly_the_boundary(
    library: list[Scenario], scenario_id: str, step: str, where: str, number: int
) -> None:
    scenario = next(s for s in library if s.id == scenario_id)
    assert int(_value(scenario, step, where)) == number


def test_the_earliest_date_checks_use_the_day_before_and_the_day_itself(
    library: list[Scenario],
) -> None:
    before = next(s for s in library if s.id == "create-earliest-date-day-before")
    assert _value(before, "day-before", "body/targetStartDate") == "2014-10-31"
    assert _value(before, "day-before", "body/targetEndDate") == "2014-10-31"
    on = next(s for s in library if s.id == "create-earliest-date-accepted")
    assert _value(on, "on-the-day", "body/targetStartDate") == "2014-11-01"
    assert _value(on, "on-the-day", "body/targetEndDate") == "2014-11-30"


# -- tenant data the suite was not given: skipped with the reason ----------------------------------


EARLIEST_SCENARIOS = ("create-earliest-date-day-before", "create-earliest-date-accepted")


def _run_earliest(
    library: list[Scenario],
    catalogue: Catalogue,
    tenants: FreshTenants,
    data: TenantData,
    ids: tuple[str, ...] = EARLIEST_SCENARIOS,
) -> dict[str, Any]:
    tenants.data = data
    chosen = [s for s in library if s.id in ids]
    assert len(chosen) == len(ids)
    return {r.id: r for r in run_scenarios(catalogue, chosen, tenants)}


def test_without_an_earliest_date_both_sides_are_skipped_with_the_reason(
    library: list[Scenario], catalogue: Catalogue, tenants: FreshTenants
) -> None:
    data = TenantData(DOCUMENTS_PERIOD, DOCUMENTS_SECOND_PERIOD)
    results = _run_earliest(library, catalogue, tenants, data)
    for result in results.values():
        assert result.status is Status.SKIP, (result.id, result.status)
        assert "earliest target date is not known" in result.message
        assert "--earliest-date" in result.message
        assert not result.evidence  # nothing was sent


def test_without_a_period_known_to_hold_it_the_day_itself_is_skipped(
    library: list[Scenario], catalogue: Catalogue, tenants: FreshTenants
) -> None:
    # The reference (no earliest date of its own) has periods from 2014; the suite is told an
    # earliest date in none of the chosen periods and cannot list the others (documents' data).
    data = TenantData(DOCUMENTS_PERIOD, DOCUMENTS_SECOND_PERIOD, dt.date(2014, 6, 1))
    results = _run_earliest(library, catalogue, tenants, data, ("create-earliest-date-accepted",))
    accepted = results["create-earliest-date-accepted"]
    assert accepted.status is Status.SKIP
    assert "no open accounting period" in accepted.message and "2014-06-01" in accepted.message
