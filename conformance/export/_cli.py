"""``jr-conformance export arazzo``: the parser and the handler (``cli/`` adds the command)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, UsageError
from .._tenant_data import (
    DOCUMENTS_DATA,
    TenantData,
    TenantSettings,
    _after,  # the calendar month after a period: the default second period
)
from ..report import _console as console

DEFAULT_OUTPUT = Path("arazzo") / "journal-runs.arazzo.yaml"


def add_export_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "export",
        help="write the scenario library in another format (arazzo)",
        description="Write the scenario library in a format other tools run.",
    )
    formats = parser.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    arazzo = formats.add_parser(
        "arazzo",
        help="an Arazzo 1.0.1 document (runs with Redocly CLI's respect)",
        description=(
            "Write the scenarios as an Arazzo 1.0.1 document, next to a copy of the OpenAPI "
            "spec it names. Tenant values are workflow inputs whose defaults come from the "
            "tenant options (default: the embedded reference's). Run it with: redocly respect "
            "FILE --server journalRuns=BASE_URL --input token=TOKEN"
        ),
    )
    arazzo.add_argument(
        "--select",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="scenario ids, areas, tags or requirement IDs (wildcards allowed)",
    )
    arazzo.add_argument(
        "--output",
        "-o",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help=f"the document to write (default: {DEFAULT_OUTPUT})",
    )
    arazzo.add_argument("--config", type=Path, metavar="PATH", help="a TOML or YAML config file")
    arazzo.add_argument("--zuora-version", metavar="VERSION", help="Zuora-Version the steps send")
    arazzo.add_argument(
        "--period",
        metavar="NAME=START..END",
        help="the accounting period runs are created in (default: Nov-2014, as the reference)",
    )
    arazzo.add_argument(
        "--second-period", metavar="NAME=START..END", help="a period after --period"
    )
    arazzo.add_argument(
        "--earliest-date",
        metavar="YYYY-MM-DD",
        help="the earliest target date the tenant allows (else its scenarios are left out)",
    )
    arazzo.set_defaults(handler=_export_arazzo)


def export_tenant_data(settings: TenantSettings) -> TenantData:
    """The tenant's data from the configuration alone (nothing is asked of a target): the
    periods need their dates, or a month name (``Jan-2025``); unset, the reference's."""
    if settings.period is None and settings.second_period is None:
        if settings.earliest_date is None:
            return DOCUMENTS_DATA
        return TenantData(
            DOCUMENTS_DATA.period, DOCUMENTS_DATA.second_period, settings.earliest_date
        )
    from .._tenant_data import _month_of

    def period_of(setting: Any, what: str) -> Any:
        found = setting.period() or _month_of(setting.name)
        if found is None:
            raise ConfigError(
                f"{what} {setting.name!r}: the export needs its dates, e.g. "
                f"{setting.name}=2025-01-01..2025-01-31"
            )
        return found

    period = period_of(settings.period, "--period") if settings.period else DOCUMENTS_DATA.period
    if settings.second_period is not None:
        second = period_of(settings.second_period, "--second-period")
    else:
        second = _after(period)
        if second is None:
            raise ConfigError(
                f"--period {period.name}: not a calendar month; give --second-period too"
            )
    return TenantData(period, second, settings.earliest_date, source="the export's options")


def _export_arazzo(args: argparse.Namespace) -> int:
    from .._catalogue import load_catalogue
    from .._config import load_config
    from .._plan import _select
    from ._arazzo import SOURCE_NAME, build_arazzo, write_arazzo

    flags = {
        "config": args.config,
        "select": args.select,
        "zuora_version": args.zuora_version,
        "period": args.period,
        "second_period": args.second_period,
        "earliest_date": args.earliest_date,
    }
    config = load_config(flags)
    for line in console.warning_lines(config):
        console.err(line)
    catalogue = load_catalogue()
    scenarios = _select(config, catalogue).scenarios
    if not scenarios:
        raise UsageError("--select: the selection holds no scenario to export")
    tenant = export_tenant_data(config.tenant_settings())
    export = build_arazzo(scenarios, catalogue, tenant, zuora_version=config.zuora_version)
    if not export.workflow_ids:
        reasons = "; ".join(f"{i.scenario}: {i.reason}" for i in export.left_out)
        raise UsageError(f"no selected scenario translates to Arazzo ({reasons})")
    spec_copy = write_arazzo(export, args.output)
    console.out(
        f"wrote {args.output} (Arazzo {export.document['arazzo']}): "
        f"{len(export.workflow_ids)} workflow(s) of {len(scenarios)} scenario(s); "
        f"the spec it names: {spec_copy}"
    )
    for item in export.left_out:
        console.out(f"  left out {item.scenario}: {item.reason}")
    unchecked = sum(len(v) for v in export.not_checked.values())
    if unchecked:
        console.out(
            f"  {unchecked} thing(s) in {len(export.not_checked)} workflow(s) are not checked "
            "(steps left out, checks without an Arazzo criterion): see each workflow's "
            "x-not-checked"
        )
    console.out(
        f"run it: redocly respect {args.output} --server {SOURCE_NAME}=BASE_URL --input token=TOKEN"
    )
    return 0
