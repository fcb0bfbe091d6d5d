"""``selftest``: prove the suite against the reference's deliberate faults and variants."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..report import _console as console
from ._options import add_seed_option

if TYPE_CHECKING:
    from ._options import Commands


def _selftest(args: argparse.Namespace) -> int:
    from .._selftest import (
        CleanOutcome,
        FaultOutcome,
        outcome_line,
        render_text,
        selftest,
        write_reports,
    )

    def show(outcome: FaultOutcome | CleanOutcome) -> None:
        if not args.quiet:
            console.out(outcome_line(outcome))

    result = selftest(
        fast=args.fast,
        faults=args.fault or (),
        clean=args.clean or (),
        variants=args.variant or (),
        run_clean=not args.skip_clean,
        run_variants=not args.skip_variants,
        run_faults=not args.skip_faults,
        jobs=args.jobs,
        max_examples=args.max_examples,
        seed=args.seed,
        on_outcome=show,
    )
    console.out(render_text(result))
    console.write_lines(console.report_lines(write_reports(result, args.reports)))
    return result.exit_code


def add_selftest(commands: Commands) -> None:
    parser = commands.add_parser(
        "selftest",
        help="prove the suite: every injected reference fault caught, no false alarm",
        description="Run the suite against each deliberate fault of the embedded reference "
        "server, against the clean reference in several valid configurations, and against "
        "each reference variant (a conforming alternative reading of a decision: alone in both "
        "error styles, and all at once in every clean configuration), then print the matrix "
        "(fault, requirements it breaks, caught or not, by which checks; variants beside) and "
        "write selftest.json and selftest.md. A fault counts as caught only when a check fails "
        "an assertion naming a requirement the fault declares; any failure on a clean "
        "configuration or a variant is a false alarm. --fast runs, per fault, only the checks "
        "naming those requirements (fuzzing with a small budget, and only if the scenarios "
        "missed it), and per variant alone only the checks naming a requirement it reads. "
        "Exit 0 at a 100% mutation score with no false alarm, else 1.",
    )
    parser.add_argument(
        "--fast", action="store_true", help="per fault, only the checks that could catch it"
    )
    for flag, what in (
        ("--fault", "faults"),
        ("--clean", "clean configurations"),
        (
            "--variant",
            "reference variants (each runs alone in both error styles, and together "
            "in each clean configuration)",
        ),
    ):
        parser.add_argument(
            flag,
            action="append",
            metavar="NAME",
            help=f"only these {what} (repeatable; wildcards allowed; default: all)",
        )
    parser.add_argument(
        "--skip-clean",
        action="store_true",
        help="run no clean configuration (and no variant unless --variant names one; a variant "
        "then runs alone only)",
    )
    parser.add_argument("--skip-variants", action="store_true", help="run no reference variant")
    parser.add_argument("--skip-faults", action="store_true", help="run no fault")
    parser.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="processes at once (default 1)"
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        metavar="N",
        help="fuzz examples per operation (default: the run's 25; 5 with --fast)",
    )
    add_seed_option(parser, default=0)
    parser.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where selftest.json and selftest.md go (reports/)",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per finished fault")
    parser.set_defaults(handler=_selftest)
