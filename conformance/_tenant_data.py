"""The tenant's own data: which accounting periods the checks use, and the earliest target date.

Nothing about a tenant is a literal in the suite. The periods come, in this order, from the
configuration (``tenant.period`` / ``--period`` / ``JR_PERIOD``), from the target's Accounting
Periods API (``GET /v1/accounting-periods``, the vendor's separate API: a read, so always safe), or,
for a target without that API, from the documents' own example (``Nov-2014``). Scenarios read them
as ``${tenant.period.name}``, ``${tenant.period.start+3}`` and so on (see :data:`VARIABLES`); the
preflight's idle check and the fuzz stage's creates use them too.

A period is written ``NAME`` or ``NAME=START..END`` (``Jan-2025=2025-01-01..2025-01-31``). A name
alone takes its dates from the Accounting Periods API, or from the name when it reads as a month
(``Jan-2025``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._exceptions import ConfigError, SetupError, TransportError
from ._http import Request, Session
from ._results import Assertion, CheckResult

__all__ = [
    "DOCUMENTS_DATA",
    "DOCUMENTS_PERIOD",
    "DOCUMENTS_SECOND_PERIOD",
    "VARIABLES",
    "Period",
    "TenantData",
    "TenantSettings",
    "parse_period",
    "resolve_tenant_data",
]

PERIODS_PATH = "/v1/accounting-periods"


@dataclass(frozen=True)
class Period:
    """An accounting period of the tenant."""

    name: str
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigError(f"period {self.name}: it ends ({self.end}) before it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def spec(self) -> str:
        return f"{self.name}={self.start}..{self.end}"


#: The documents' own example: "a run over the accounting period Nov-2014", and the month after.
DOCUMENTS_PERIOD = Period("Nov-2014", dt.date(2014, 11, 1), dt.date(2014, 11, 30))
DOCUMENTS_SECOND_PERIOD = Period("Dec-2014", dt.date(2014, 12, 1), dt.date(2014, 12, 31))

_SPEC = re.compile(r"^(?P<name>[^=]+?)\s*(?:=\s*(?P<start>[0-9-]+)\s*\.\.\s*(?P<end>[0-9-]+))?$")
_MONTHS = {
    month: number
    for number, month in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value  # TOML and YAML read a bare date as a date
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


def _month_of(name: str) -> Period | None:
    """``Jan-2025`` read as the calendar month it names, else ``None``."""
    match = re.fullmatch(r"([A-Z][a-z]{2})-(\d{4})", name)
    if not match or match.group(1) not in _MONTHS:
        return None
    year, month = int(match.group(2)), _MONTHS[match.group(1)]
    start = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return Period(name, start, following - dt.timedelta(days=1))


@dataclass(frozen=True)
class PeriodSetting:
    """A period as configured: a name, with or without its dates."""

    name: str
    start: dt.date | None = None
    end: dt.date | None = None

    def period(self) -> Period | None:
        if self.start is not None and self.end is not None:
            return Period(self.name, self.start, self.end)
        return None

    def spec(self) -> str:
        return self.name if self.start is None else f"{self.name}={self.start}..{self.end}"


def parse_period(value: Any, what: str = "period") -> PeriodSetting:
    """A period from ``NAME``, ``NAME=START..END`` or a mapping ``{name, start, end}``."""
    if isinstance(value, PeriodSetting):
        return value
    if isinstance(value, Mapping):
        name = str(value.get("name") or "").strip()
        if not name:
            raise ConfigError(f"{what}: a period needs a name")
        start, end = value.get("start"), value.get("end")
        if (start is None) != (end is None):
            raise ConfigError(f"{what}: give both start and end, or neither")
        if start is None:
            return PeriodSetting(name)
        setting = PeriodSetting(name, _date(start, f"{what}.start"), _date(end, f"{what}.end"))
        setting.period()  # checks the order
        return setting
    match = _SPEC.match(str(value).strip())
    if not match or not match.group("name").strip():
        raise ConfigError(
            f"{what}: {value!r} is not a period; write NAME or NAME=START..END "
            "(e.g. Jan-2025=2025-01-01..2025-01-31)"
        )
    name = match.group("name").strip()
    if len(name) > 100:
        raise ConfigError(f"{what}: a period name has at most 100 characters")
    if match.group("start") is None:
        return PeriodSetting(name)
    setting = PeriodSetting(
        name, _date(match.group("start"), f"{what} start"), _date(match.group("end"), f"{what} end")
    )
    setting.period()
    return setting


@dataclass(frozen=True)
class TenantSettings:
    """What the configuration says about the tenant; every part may be left to discovery."""

    period: PeriodSetting | None = None
    second_period: PeriodSetting | None = None
    earliest_date: dt.date | None = None


@dataclass(frozen=True)
class TenantData:
    """The tenant's data as the checks use it, and where it came from."""

    period: Period
    second_period: Period
    #: The earliest target date the tenant allows; ``None``: not known (its checks are skipped).
    earliest_date: dt.date | None = None
    #: Where the periods came from, for the report.
    source: str = "the documents' example"
    #: An open accounting period known to contain :attr:`earliest_date` (the boundary's inside is
    #: checked in it); ``None``: none known. Defaults to :attr:`period` or :attr:`second_period`
    #: when one of them contains the date.
    earliest_period: Period | None = None

    def __post_init__(self) -> None:
        if self.second_period.start <= self.period.end:
            raise ConfigError(
                f"second period {self.second_period.name} must start after period "
                f"{self.period.name} ends ({self.period.end})"
            )
        earliest, known = self.earliest_date, self.earliest_period
        if earliest is None:
            object.__setattr__(self, "earliest_period", None)
        elif known is None:
            for period in (self.period, self.second_period):
                if period.start <= earliest <= period.end:
                    object.__setattr__(self, "earliest_period", period)
        elif not known.start <= earliest <= known.end:
            raise ConfigError(
                f"the earliest target date {earliest} is not in the period {known.spec()}"
            )

    def variables(self) -> dict[str, str]:
        """The scenario variables (:data:`VARIABLES`) and their values."""
        values = {}
        for key, period in (("period", self.period), ("second_period", self.second_period)):
            values[f"tenant.{key}.name"] = period.name
            values[f"tenant.{key}.start"] = period.start.isoformat()
            values[f"tenant.{key}.end"] = period.end.isoformat()
        if self.earliest_date is not None:
            values["tenant.earliest_date"] = self.earliest_date.isoformat()
        if self.earliest_period is not None:
            values["tenant.earliest_period.name"] = self.earliest_period.name
            values["tenant.earliest_period.start"] = self.earliest_period.start.isoformat()
            values["tenant.earliest_period.end"] = self.earliest_period.end.isoformat()
        return values

    def missing(self, name: str) -> str | None:
        """Why the tenant variable ``name`` has no value (``None``: it has one, or is no tenant
        variable): the message a scenario that needs it is skipped with."""
        if name not in VARIABLES or name in self.variables():
            return None
        if self.earliest_date is None:
            return (
                "the tenant's earliest target date is not known: set tenant.earliest_date "
                "(--earliest-date, JR_EARLIEST_DATE)"
            )
        return (
            f"no open accounting period of the tenant is known to contain its earliest target "
            f"date {self.earliest_date} (GET {PERIODS_PATH} lists none, or the target does not "
            "offer it; configure one with --period or --second-period)"
        )

    def bounds(self, name: str) -> tuple[dt.date, dt.date] | None:
        """The dates a ``${name+N}`` offset must stay within (its period), or ``None``."""
        for key, period in (
            ("period", self.period),
            ("second_period", self.second_period),
            ("earliest_period", self.earliest_period),
        ):
            if period is not None and name.startswith(f"tenant.{key}."):
                return period.start, period.end
        return None

    def describe(self) -> str:
        earliest = self.earliest_date.isoformat() if self.earliest_date else "not configured"
        if self.earliest_date is not None:
            inside = self.earliest_period
            earliest += f" (in {inside.spec()})" if inside else " (in no known open period)"
        return (
            f"period {self.period.spec()}, second period {self.second_period.spec()} "
            f"({self.source}); earliest target date {earliest}"
        )

    def translate(self, value: Any) -> Any:
        """``value`` with the documents' example period replaced by this tenant's, at any depth.

        The spec's examples (which the fuzz stage starts from) use the documents' ``Nov-2014``:
        a date inside it moves to the same offset in :attr:`period` (clamped to its end).
        """
        if isinstance(value, str):
            return self._translate_text(value)
        if isinstance(value, Mapping):
            return {key: self.translate(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.translate(item) for item in value]
        return value

    def _translate_text(self, text: str) -> str:
        for old, new in (
            (DOCUMENTS_PERIOD, self.period),
            (DOCUMENTS_SECOND_PERIOD, self.second_period),
        ):
            if text == old.name:
                return new.name
            try:
                day = dt.date.fromisoformat(text[:10])
            except ValueError:
                continue
            if old.start <= day <= old.end:
                moved = min(new.start + (day - old.start), new.end)
                if day == old.end:
                    moved = new.end
                return moved.isoformat() + text[10:]
        return text


#: What the checks use when nobody resolved the tenant's data (e.g. scenarios run directly).
DOCUMENTS_DATA = TenantData(DOCUMENTS_PERIOD, DOCUMENTS_SECOND_PERIOD)

#: Every ``${tenant.…}`` variable a scenario may use; the dates take ``+N`` / ``-N`` days.
VARIABLES: tuple[str, ...] = (
    "tenant.period.name",
    "tenant.period.start",
    "tenant.period.end",
    "tenant.second_period.name",
    "tenant.second_period.start",
    "tenant.second_period.end",
    "tenant.earliest_date",
    "tenant.earliest_period.name",
    "tenant.earliest_period.start",
    "tenant.earliest_period.end",
)
DATE_VARIABLES = frozenset(name for name in VARIABLES if not name.endswith(".name"))


# -- resolving it against the target -----------------------------------------------------------


def resolve_tenant_data(
    settings: TenantSettings, session: Session | None, check: CheckResult | None = None
) -> TenantData:
    """The tenant's data from ``settings``, completed from the target's Accounting Periods API.

    A configured period the tenant does not have is a :class:`SetupError` that names it and says
    how to set another. ``session`` ``None`` asks nothing (the documents' default fills gaps).
    """
    listed = _list_periods(session, check) if session is not None else None
    earliest = settings.earliest_date
    inside = _containing(listed, earliest)
    period = _configured(settings.period, listed, "period", "--period / tenant.period")
    second = _configured(
        settings.second_period, listed, "second period", "--second-period / tenant.second_period"
    )
    if period is not None and second is not None:
        return TenantData(period, second, earliest, source="configured", earliest_period=inside)
    if listed:
        chosen = _choose(listed, period, earliest)
        if chosen is not None:
            first, other = chosen
            if second is not None:
                other = second
            source = "configured" if period is not None else f"found by GET {PERIODS_PATH}"
            return TenantData(first, other, earliest, source=source, earliest_period=inside)
        if period is None:
            names = ", ".join(item.period.name for item in listed[:12])
            raise SetupError(
                f"GET {PERIODS_PATH} lists no two open accounting periods the checks can use "
                f"(listed: {names}{' …' if len(listed) > 12 else ''}); set the periods with "
                "--period NAME=START..END and --second-period (or tenant.period in the config file)"
            )
    first = period or DOCUMENTS_PERIOD
    following = second or _after(first)
    if following is None:
        raise SetupError(
            f"the period {first.name} is not a calendar month, so the suite cannot tell which "
            "period follows it: set one with --second-period NAME=START..END "
            "(tenant.second_period in the config file, or JR_SECOND_PERIOD)"
        )
    source = (
        "configured" if period is not None else "the documents' example (no Accounting Periods API)"
    )
    return TenantData(first, following, earliest, source=source)


def _containing(listed: list[_Listed] | None, day: dt.date | None) -> Period | None:
    """The open listed period that contains ``day``, if the target listed one."""
    if day is None:
        return None
    for item in listed or ():
        if item.status.lower() in ("open", "") and item.period.start <= day <= item.period.end:
            return item.period
    return None


def _after(period: Period) -> Period | None:
    """The calendar month after ``period`` when it is a calendar month."""
    month = _month_of(period.name)
    if month is None or month != period:
        return None
    following = period.end + dt.timedelta(days=1)
    return _month_of(f"{following.strftime('%b')}-{following.year}")


def _configured(
    setting: PeriodSetting | None, listed: list[_Listed] | None, what: str, how: str
) -> Period | None:
    if setting is None:
        return None
    if listed:
        for item in listed:
            if item.period.name == setting.name:
                if setting.start is not None and setting.period() != item.period:
                    raise SetupError(
                        f"the tenant's {what} {setting.name} runs {item.period.start}.."
                        f"{item.period.end}, not {setting.start}..{setting.end} as configured "
                        f"({how}): fix the dates or leave them out"
                    )
                return item.period
        names = ", ".join(item.period.name for item in listed[:12])
        raise SetupError(
            f"the tenant has no accounting period {setting.name!r} (the configured {what}, "
            f"{how}); GET {PERIODS_PATH} lists: {names}. Set another with {how}"
        )
    period = setting.period() or _month_of(setting.name)
    if period is None:
        raise SetupError(
            f"the {what} {setting.name!r} has no dates and the target has no Accounting Periods "
            f"API to look them up: write it as NAME=START..END ({how})"
        )
    return period


@dataclass(frozen=True)
class _Listed:
    period: Period
    status: str


def _list_periods(session: Session, check: CheckResult | None) -> list[_Listed] | None:
    """The tenant's accounting periods, or ``None`` when the target does not offer the API."""
    try:
        response = session.do(Request("GET", PERIODS_PATH), check=check, track="preflight.periods")
    except TransportError:
        return None
    body = response.json_or_none()
    if response.status_code != 200 or not isinstance(body, dict):
        return None
    items = body.get("accountingPeriods")
    if body.get("success") is False or not isinstance(items, list):
        return None
    listed = []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            period = Period(
                str(item["name"]),
                dt.date.fromisoformat(str(item["startDate"])[:10]),
                dt.date.fromisoformat(str(item["endDate"])[:10]),
            )
        except (KeyError, ValueError, ConfigError):
            continue
        listed.append(_Listed(period, str(item.get("status") or "")))
    listed.sort(key=lambda item: item.period.start)
    return listed


def _choose(
    listed: Iterable[_Listed], period: Period | None, earliest: dt.date | None
) -> tuple[Period, Period] | None:
    """Two open periods, the second after the first: the earliest such pair at or after the
    earliest target date (the configured ``period`` as the first, when there is one)."""
    usable = [
        item.period
        for item in listed
        if item.status.lower() in ("open", "")
        and (earliest is None or item.period.start >= earliest)
        and item.period.days >= MIN_PERIOD_DAYS
    ]
    firsts = [period] if period is not None else usable
    for first in firsts:
        later = [p for p in usable if p.start > first.end]
        if later:
            return first, later[0]
    return None


#: The scenarios place dates up to this many days into a period.
MIN_PERIOD_DAYS = 28


def record_choice(data: TenantData, check: CheckResult) -> None:
    """Say on the preflight check which tenant data the run uses."""
    check.record(Assertion(f"tenant data: {data.describe()}", (), passed=True))
