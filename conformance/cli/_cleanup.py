"""``cleanup``: finish what an interrupted or crashed run could not clean, from its ledger."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..report import _console as console
from ._options import add_connection_options

if TYPE_CHECKING:
    from ._options import Commands


def _cleanup(args: argparse.Namespace) -> int:
    from .._ledger_cleanup import cleanup_ledger

    flags = {"config": args.config, "base_url": args.base_url}
    if args.allow_production:
        flags["allow_production"] = True
    return cleanup_ledger(args.ledger, flags, wait_s=args.wait, say=console.out).exit_code


def add_cleanup(commands: Commands) -> None:
    parser = commands.add_parser(
        "cleanup",
        help="finish the cleanup of an interrupted or crashed run from its ledger",
        description="Cancel and delete what a run's ledger (reports/ledger.jsonl) says the suite "
        "created and did not clean up, newest first, on the ledger's target (or --base-url) "
        "with the credentials of the environment (JR_TOKEN, or JR_CLIENT_ID and "
        "JR_CLIENT_SECRET). Nothing outside the ledger is touched; an item recorded for other "
        "credentials is left alone. Exit 0 all cleaned (or nothing to do), 1 something left "
        "behind, 2 usage error (no such ledger), 3 the target could not be reached.",
    )
    parser.add_argument("--ledger", type=Path, required=True, metavar="FILE", help="the ledger")
    add_connection_options(parser, "the one the ledger names")
    parser.add_argument(
        "--wait", type=float, default=120.0, metavar="S", help="seconds each item may take (120)"
    )
    parser.add_argument(
        "--allow-production", action="store_true", help="the ledger's target is a production host"
    )
    parser.set_defaults(handler=_cleanup)
