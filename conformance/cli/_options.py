"""The option groups commands share, and the one way flags become a :class:`Config`.

Credentials are never flags: they come from the environment (``JR_TOKEN``, or ``JR_CLIENT_ID``
and ``JR_CLIENT_SECRET``); ``--token`` is refused with that answer, on every command that talks
to a target.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..report import _console as console

if TYPE_CHECKING:
    from typing import TypeAlias

    from .._config import Config

    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

#: A config setting -> the flag's attribute on the parsed arguments.
_FLAGS = (
    ("config", "config"),
    ("base_url", "base_url"),
    ("select", "select"),
    ("capabilities", "capabilities"),
    ("zuora_version", "zuora_version"),
    ("period", "period"),
    ("second_period", "second_period"),
    ("earliest_date", "earliest_date"),
    ("reports_dir", "reports"),
    ("formats", "format"),
    ("expected_failures", "expected_failures"),
    ("max_examples", "max_examples"),
    ("seed", "seed"),
    ("max_time_s", "max_time"),
    ("rate_limit_per_min", "rate_limit"),
    ("tenants", "tenants"),
    ("concurrency", "concurrency"),
    ("progress", "progress"),
)
_SWITCHES = ("read_only", "allow_production", "strict")

NO_TOKEN_FLAG = (
    "a token on the command line shows in ps and in the shell's history: set JR_TOKEN (or "
    "JR_CLIENT_ID and JR_CLIENT_SECRET) in the environment instead"
)


class _RefuseToken(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(f"{option_string}: {NO_TOKEN_FLAG}")


def config_from(args: argparse.Namespace) -> Config:
    """The run's settings from the parsed flags, the config file and the environment; its
    warnings are said on stderr."""
    from .._config import load_config

    flags: dict[str, Any] = {name: getattr(args, attr, None) for name, attr in _FLAGS}
    for name in _SWITCHES:
        if getattr(args, name, False):
            flags[name] = True
    config = load_config(flags)
    for line in console.warning_lines(config):
        console.err(line)
    return config


# -- the groups ------------------------------------------------------------------------------------


def add_target_options(parser: argparse.ArgumentParser, *, select_help: str) -> None:
    """Flags every command that tests a target shares."""
    add_connection_options(parser)
    parser.add_argument(
        "--select",
        nargs="+",
        action="extend",
        metavar="NAME",
        help=f"{select_help} (wildcards allowed; default: all)",
    )
    parser.add_argument(
        "--capabilities",
        metavar="LIST",
        help="comma-separated capabilities the target offers (journal-entries, manual-entries, "
        "idempotency, gzip-requests, reference-controls, transfer-override)",
    )
    parser.add_argument("--zuora-version", metavar="VERSION", help="Zuora-Version to send")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="run only what reads; every write is refused (the way to test a production host)",
    )
    _add_tenant_options(parser)


def add_connection_options(
    parser: argparse.ArgumentParser,
    target: str = "the embedded reference server",
) -> None:
    """Where the target is and the config file; ``--token`` only to refuse it clearly."""
    parser.add_argument("--base-url", metavar="URL", help=f"the target (default: {target})")
    parser.add_argument("--token", action=_RefuseToken, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, metavar="PATH", help="a TOML or YAML config file")


def _add_tenant_options(parser: argparse.ArgumentParser) -> None:
    """The tenant's own data (the config file's ``tenant`` section); unset: found on the target."""
    parser.add_argument(
        "--period",
        metavar="NAME[=START..END]",
        help="the accounting period the checks create journal runs in (default: found with "
        "GET /v1/accounting-periods), e.g. Jan-2025=2025-01-01..2025-01-31",
    )
    parser.add_argument(
        "--second-period",
        metavar="NAME[=START..END]",
        help="a period after --period (for a date range spanning two periods)",
    )
    parser.add_argument(
        "--earliest-date",
        metavar="YYYY-MM-DD",
        help="the earliest target date the tenant allows (its boundary is then checked)",
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Flags of every command that runs the suite (``run`` and its presets): the reports, the
    gate, the pace, the safety switches and the progress display."""
    parser.add_argument("--reports", type=Path, metavar="DIR", help="report folder (reports/)")
    parser.add_argument(
        "--format",
        action="append",
        choices=("json", "junit", "html", "markdown"),
        help="report formats to write (repeatable; default: all four)",
    )
    parser.add_argument(
        "--expected-failures", type=Path, metavar="FILE", help="known deviations, with reasons"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="a SHOULD or MAY failure (a warning) fails the run too (config: strict = true)",
    )
    add_rate_option(parser)
    parser.add_argument(
        "--tenants", type=int, metavar="N", help="scenarios run in parallel (reference: 8)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="requests at once on one tenant, for checks that create no journal run (8)",
    )
    for flag, what in (
        ("--pending-wait", "how long to wait for a journal run the suite did not create to finish"),
        ("--cleanup-wait", "how long cleaning up one run or entry may take"),
    ):
        parser.add_argument(flag, type=float, default=120.0, metavar="S", help=f"{what} (120)")
    parser.add_argument(
        "--allow-production",
        action="store_true",
        help="allow writes to a production host (careful: prefer a sandbox, or --read-only)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quiet", dest="progress", action="store_const", const="quiet", help="no progress"
    )
    mode.add_argument(
        "--jsonl",
        dest="progress",
        action="store_const",
        const="jsonl",
        help="progress as JSON lines on stdout",
    )


def add_fuzz_options(parser: argparse.ArgumentParser) -> None:
    """The fuzz stage's budget."""
    parser.add_argument(
        "--max-examples", type=int, metavar="N", help="fuzz examples per operation (10)"
    )
    add_seed_option(parser)
    parser.add_argument(
        "--max-time",
        type=float,
        metavar="S",
        help="fuzz stage time budget in seconds (a bounded run is not exactly reproducible)",
    )


def add_seed_option(parser: argparse.ArgumentParser, default: int | None = None) -> None:
    parser.add_argument("--seed", type=int, default=default, metavar="N", help="fuzz seed (0)")


def add_rate_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rate-limit", type=rate, metavar="N/min", help="send at most N requests a minute"
    )


def rate(text: str) -> float:
    number, _, unit = text.partition("/")
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate like 2500/min") from None
    if unit not in ("", "min", "m"):
        raise argparse.ArgumentTypeError(f"{text!r}: the rate is per minute, like 2500/min")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the rate must be more than 0 a minute")
    return value
