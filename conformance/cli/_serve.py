"""``serve``: the reference Journal Runs server, on its own."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .._results import EXIT_OK
from ..report import _console as console

if TYPE_CHECKING:
    from ._options import Commands


def _serve(args: argparse.Namespace) -> int:
    from ..reference import VARIANTS, ReferenceSettings, serve

    variants = set(args.variant)
    if "all" in variants:
        variants = (variants - {"all"}) | set(VARIANTS)
    settings = ReferenceSettings(
        host=args.host,
        port=args.port,
        db_path=str(args.db) if args.db else None,
        delay=args.delay,
        error_style=args.error_style,
        client_secret=args.client_secret,
        tokens=tuple(args.token),
        token_lifetime=args.token_lifetime,
        rate_limit=args.rate_limit,
        faults=frozenset(args.fault),
        variants=frozenset(variants),
        periods=args.periods,
        earliest_date=args.earliest_date,
    )
    serve(settings, announce=console.out)
    return EXIT_OK


def _period_range(text: str) -> tuple[str, str]:
    """``--periods FIRST:LAST`` (months, ``2024-01:2026-12``); ReferenceSettings checks them."""
    first, colon, last = text.partition(":")
    if not colon or not first.strip() or not last.strip():
        raise argparse.ArgumentTypeError(f"expected FIRST:LAST like 2024-01:2026-12, not {text!r}")
    return first.strip(), last.strip()


def add_serve(commands: Commands) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the reference Journal Runs server (the suite's default target)",
        description="Serve the reference implementation until Ctrl-C or SIGTERM. Get a token "
        "with POST /oauth/token (any client_id, the configured client secret) or pass --token.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite file to keep state in (default: memory)"
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="seconds between lifecycle steps (0: instant; about 2 to watch the states)",
    )
    parser.add_argument(
        "--error-style",
        choices=("legacy", "modern"),
        default="legacy",
        help="errors without a modern Zuora-Version: HTTP 200 (legacy) or their status (modern)",
    )
    parser.add_argument(
        "--client-secret",
        default="reference-secret",
        metavar="S",
        help="the client secret POST /oauth/token accepts",
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="T",
        help="a static bearer token, its own tenant (repeatable)",
    )
    parser.add_argument(
        "--token-lifetime", type=float, default=3600.0, metavar="SECONDS", help="OAuth token life"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=10_000, metavar="N", help="requests per tenant a minute"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="make a deliberate deviation (repeatable; see conformance/reference/_faults.py)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="take a conforming alternative reading (repeatable; 'all' for every one; see "
        "conformance/reference/_variants.py)",
    )
    parser.add_argument(
        "--periods",
        type=_period_range,
        default=("2014-01", "2027-12"),
        metavar="FIRST:LAST",
        help="the tenant's monthly accounting periods, first and last month "
        "(default: 2014-01:2027-12)",
    )
    parser.add_argument(
        "--earliest-date",
        metavar="YYYY-MM-DD",
        help="the earliest allowed target date, e.g. 2015-01-01 (default: no lower bound)",
    )
    parser.set_defaults(handler=_serve)
