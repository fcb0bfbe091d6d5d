"""The tenant's own data: configured, found on the target, or the documents' example; and no
literal period or date left in the scenario library."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance._config import load_config
from conformance._exceptions import ConfigError, SetupError
from conformance._tenant_data import (
    DOCUMENTS_DATA,
    Period,
    TenantData,
    TenantSettings,
    parse_period,
    resolve_tenant_data,
)
from conformance.scenarios._vars import OffsetOutOfPeriod, UndefinedVariable, Variables

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
JAN = Period("Jan-2025", dt.date(2025, 1, 1), dt.date(2025, 1, 31))
FEB = Period("Feb-2025", dt.date(2025, 2, 1), dt.date(2025, 2, 28))


def test_period_spec_forms() -> None:
    assert parse_period("Jan-2025").name == "Jan-2025"
    full = parse_period("Jan-2025=2025-01-01..2025-01-31")
    assert full.period() == JAN
    assert parse_period({"name": "Q1", "start": "2025-01-01", "end": "2025-03-31"}).end == (
        dt.date(2025, 3, 31)
    )
    for bad in ("=2025-01-01..2025-01-31", "Jan-2025=2025-01-31..2025-01-01", "X=2025-13-01..2"):
        with pytest.raises(ConfigError):
            parse_period(bad)


def test_config_file_tenant_section(tmp_path: Path) -> None:
    path = tmp_path / "jr.toml"
    path.write_text(
        '[tenant]\nperiod = "Jan-2025=2025-01-01..2025-01-31"\n'
        'second_period = {name = "Feb-2025", start = 2025-02-01, end = 2025-02-28}\n'
        "earliest_date = 2015-01-01\n"
    )
    settings = load_config({"config": str(path)}, env={}).tenant_settings()
    assert settings.period is not None and settings.period.period() == JAN
    assert settings.second_period is not None and settings.second_period.period() == FEB
    assert settings.earliest_date == dt.date(2015, 1, 1)


def test_environment_and_flags(tmp_path: Path) -> None:
    config = load_config({"period": "Mar-2026"}, env={"JR_EARLIEST_DATE": "2015-01-01"})
    assert config.tenant_settings().period is not None
    assert config.redacted()["period"] == "Mar-2026"
    assert config.redacted()["earliest_date"] == "2015-01-01"
    with pytest.raises(ConfigError, match="earliest_date"):
        load_config({"earliest_date": "2015-13-01"}, env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenant:\n  periode: Jan-2025\n")
    with pytest.raises(ConfigError, match="periode"):
        load_config({"config": str(bad)}, env={})


def test_nothing_configured_and_no_target_gives_the_documents_example() -> None:
    data = resolve_tenant_data(TenantSettings(), None)
    assert data.period == DOCUMENTS_DATA.period
    assert data.second_period == DOCUMENTS_DATA.second_period


def test_a_month_name_alone_takes_its_dates_and_the_next_month() -> None:
    data = resolve_tenant_data(TenantSettings(parse_period("Jan-2025")), None)
    assert (data.period, data.second_period) == (JAN, FEB)


def test_a_period_that_is_not_a_month_needs_a_second_period() -> None:
    with pytest.raises(SetupError, match="--second-period"):
        resolve_tenant_data(TenantSettings(parse_period("Q1=2025-01-01..2025-03-31")), None)


class _Periods:
    """A stand-in session whose target answers GET /v1/accounting-periods."""

    def __init__(self, periods: list[dict[str, Any]] | None) -> None:
        self.periods = periods

    def do(self, request: Any, **_: Any) -> Any:
        periods = self.periods

        class _Answer:
            status_code = 200 if periods is not None else 404

            def json_or_none(self) -> Any:
                if periods is None:
                    return {"success": False, "reasons": [{"code": 50000040}]}
                return {"accountingPeriods": periods, "success": True}

        return _Answer()


def _listed(*names: str, status: str = "Open") -> list[dict[str, Any]]:
    out = []
    for name in names:
        month = parse_period(name)
        period = resolve_tenant_data(TenantSettings(month), None).period
        out.append(
            {
                "name": name,
                "startDate": period.start.isoformat(),
                "endDate": period.end.isoformat(),
                "status": status,
            }
        )
    return out


def test_found_on_the_target_after_the_earliest_date() -> None:
    session: Any = _Periods(_listed("Dec-2014", "Jan-2015", "Feb-2015", "Mar-2015"))
    data = resolve_tenant_data(TenantSettings(earliest_date=dt.date(2015, 1, 1)), session)
    assert (data.period.name, data.second_period.name) == ("Jan-2015", "Feb-2015")
    assert "accounting-periods" in data.source


def test_closed_periods_are_not_chosen() -> None:
    listed = _listed("Jan-2024", "Feb-2024", status="Closed") + _listed("Mar-2024", "Apr-2024")
    data = resolve_tenant_data(TenantSettings(), _Periods(listed))  # type: ignore[arg-type]
    assert data.period.name == "Mar-2024"


def test_a_configured_period_the_tenant_lacks_is_a_setup_error() -> None:
    session: Any = _Periods(_listed("Jan-2024", "Feb-2024"))
    with pytest.raises(SetupError, match=r"no accounting period 'Nov-2014'.*--period"):
        resolve_tenant_data(TenantSettings(parse_period("Nov-2014")), session)


def test_a_target_without_the_periods_api_uses_the_configured_period() -> None:
    session: Any = _Periods(None)
    data = resolve_tenant_data(TenantSettings(parse_period("Jan-2025")), session)
    assert data.period == JAN


def test_variables_with_offsets_stay_in_their_period() -> None:
    data = TenantData(JAN, FEB, dt.date(2015, 1, 1))
    values = Variables(run_id="r", scenario="s", tenant=data)
    assert values.resolve("${tenant.period.start+3}") == "2025-01-04"
    assert values.resolve("${tenant.period.end-1}") == "2025-01-30"
    assert values.resolve("${tenant.second_period.name}") == "Feb-2025"
    assert values.resolve("${tenant.earliest_date-1}") == "2014-12-31"
    with pytest.raises(OffsetOutOfPeriod, match="too short"):
        values.resolve("${tenant.second_period.start+28}")
    unknown = Variables(run_id="r", scenario="s", tenant=TenantData(JAN, FEB))
    with pytest.raises(UndefinedVariable, match="earliest_date"):
        unknown.resolve("${tenant.earliest_date}")


def test_the_spec_examples_move_into_the_tenant_period() -> None:
    data = TenantData(JAN, FEB)
    body = {"accountingPeriodName": "Nov-2014", "journalEntryDate": "2014-11-04"}
    assert data.translate(body) == {
        "accountingPeriodName": "Jan-2025",
        "journalEntryDate": "2025-01-04",
    }
    assert data.translate("2014-11-30") == "2025-01-31"


# -- the library holds no literal of the documents' tenant ------------------------------------

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_PERIOD_NAME = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4}\b")
#: Keys whose values are prose or Zuora-Version values (dates that name API versions).
_PROSE = frozenset({"title", "description", "Zuora-Version", "zuora_version"})


def _literals(value: Any, where: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _PROSE:
                found += _literals(item, f"{where}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _literals(item, f"{where}/{i}")
    elif isinstance(value, str):
        for match in _ISO_DATE.finditer(value):
            try:
                dt.date(*map(int, match.groups()))
            except ValueError:
                continue  # an impossible date is a malformed value, not tenant data
            found.append(f"{where}: {match.group(0)}")
        found += [f"{where}: {m.group(0)}" for m in _PERIOD_NAME.finditer(value)]
    return found


def test_no_scenario_names_a_literal_period_or_date() -> None:
    problems = []
    for path in sorted(SCENARIOS.rglob("*.yaml")):
        for literal in _literals(yaml.safe_load(path.read_text(encoding="utf-8"))):
            problems.append(f"{path.relative_to(SCENARIOS)}{literal}")
    assert not problems, "use ${tenant.…} instead of:\n" + "\n".join(problems)


def test_the_literal_check_can_fail() -> None:
    assert _literals({"body": {"journalEntryDate": "2024-05-01", "p": "Nov-2014"}})
    assert not _literals({"headers": {"Zuora-Version": "2024-05-20"}, "d": "2014-02-30"})


# -- the open period that holds the earliest target date --------------------------------------


def test_the_earliest_period_is_the_chosen_period_that_holds_the_date() -> None:
    data = TenantData(JAN, FEB, dt.date(2025, 1, 1))
    assert data.earliest_period == JAN
    values = Variables(run_id="r", scenario="s", tenant=data)
    assert values.resolve("${tenant.earliest_period.end}") == "2025-01-31"
    assert values.resolve("${tenant.earliest_period.name}") == "Jan-2025"
    with pytest.raises(OffsetOutOfPeriod):
        values.resolve("${tenant.earliest_period.start-1}")
    assert "Jan-2025=2025-01-01..2025-01-31" in data.describe()


def test_the_earliest_period_is_found_among_the_listed_periods() -> None:
    listed = _listed("Dec-2014", "Jan-2015", "Jan-2024", "Feb-2024")
    settings = TenantSettings(parse_period("Jan-2024"), earliest_date=dt.date(2015, 1, 15))
    data = resolve_tenant_data(settings, _Periods(listed))  # type: ignore[arg-type]
    assert data.period.name == "Jan-2024"
    assert data.earliest_period is not None and data.earliest_period.name == "Jan-2015"
    closed = _listed("Jan-2015", status="Closed") + _listed("Jan-2024", "Feb-2024")
    data = resolve_tenant_data(settings, _Periods(closed))  # type: ignore[arg-type]
    assert data.earliest_period is None  # a closed period is no place to create a run


def test_an_unknown_earliest_period_says_why_and_skips_nothing_else() -> None:
    far = TenantData(JAN, FEB, dt.date(2015, 1, 1))
    assert far.earliest_period is None
    values = Variables(run_id="r", scenario="s", tenant=far)
    assert values.resolve("${tenant.earliest_date-1}") == "2014-12-31"
    with pytest.raises(UndefinedVariable, match=r"no open accounting period.*2015-01-01"):
        values.resolve("${tenant.earliest_period.end}")
    none = Variables(run_id="r", scenario="s", tenant=TenantData(JAN, FEB))
    with pytest.raises(UndefinedVariable, match="earliest target date is not known"):
        none.resolve("${tenant.earliest_period.end}")
    assert TenantData(JAN, FEB).earliest_period is None
    with pytest.raises(ConfigError, match="not in the period"):
        TenantData(JAN, FEB, dt.date(2015, 1, 1), earliest_period=FEB)
