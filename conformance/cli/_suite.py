"""``run`` and its presets ``scenarios`` and ``fuzz`` (one stage each), and ``list``.

The three run the same :func:`conformance._run.run`: the same tenants, ledger, preflight, gate,
reports and exit code (:attr:`RunResult.exit_code`); the presets only restrict its stages and
show each check in detail.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..report import _console as console
from ._options import (
    add_fuzz_options,
    add_run_options,
    add_target_options,
    config_from,
)

_EXITS = (
    "Exit 0 all as expected (warnings, SHOULD or MAY requirements not met, included unless "
    "--strict), 1 non-conformance (or a stale expected-failures file), 2 usage or configuration "
    "error, 3 setup error (the target could not be tested), 130 interrupted (SIGINT or SIGTERM: "
    "the run still cleans up and writes its reports). Credentials come from the environment "
    "only: JR_TOKEN, or JR_CLIENT_ID and JR_CLIENT_SECRET."
)

if TYPE_CHECKING:
    from ._options import Commands


def _run(args: argparse.Namespace) -> int:
    from .._plan import Scope
    from .._progress import Progress
    from .._run import run
    from ..report import write_reports

    config = config_from(args)
    scope = Scope.preset(args.preset, getattr(args, "scenarios", None))
    progress = Progress(config.progress)
    stop = threading.Event()  # set by SIGINT or SIGTERM: the run stops, cleans up, reports
    try:
        result = run(
            config,
            progress=progress,
            stop=stop,
            pending_wait_s=args.pending_wait,
            cleanup_wait_s=args.cleanup_wait,
            scope=scope,
        )
    finally:
        progress.close()  # the live bars end before the verdict is printed
    paths = write_reports(result, config.reports_dir, config.formats)
    details = args.preset != "run"
    verbose = getattr(args, "verbose", False)
    console.write_lines(console.run_lines(result, config, paths, details=details, verbose=verbose))
    return result.exit_code


def add_run(commands: Commands) -> None:
    parser = commands.add_parser(
        "run",
        help="the whole suite: preflight, scenarios, fuzzing; writes the reports",
        description="Run preflight, the scenarios and the fuzz stage against a target (the "
        "embedded reference server when no --base-url), clean up what the run created (its "
        f"ledger is reports/ledger.jsonl) and write the reports. {_EXITS}",
    )
    add_target_options(
        parser,
        select_help="scenario ids, fuzz check ids, areas, tags or requirement IDs",
    )
    add_run_options(parser)
    add_fuzz_options(parser)
    parser.set_defaults(handler=_run, preset="run")


def add_scenarios(commands: Commands) -> None:
    parser = commands.add_parser(
        "scenarios",
        help="run only the YAML scenarios (a preset of run)",
        description="`run` with the scenarios stage only (the library, or --scenarios files): "
        "the same preflight, cleanup, gate and reports, and each scenario's verdict with, for "
        f"each failed expectation, the requirement it belongs to. {_EXITS}",
    )
    add_target_options(parser, select_help="scenario ids, tags, areas or requirement IDs")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        action="extend",
        type=Path,
        metavar="PATH",
        help="scenario files or folders instead of the bundled library",
    )
    add_run_options(parser)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every expectation, not only failures"
    )
    parser.set_defaults(handler=_run, preset="scenarios")


def add_fuzz(commands: Commands) -> None:
    parser = commands.add_parser(
        "fuzz",
        help="fuzz a target from the spec with schemathesis (a preset of run)",
        description="`run` with the fuzz stage only: schemathesis generates requests from the "
        "spec and every answer is judged by its built-in checks and the Journal Runs rules. "
        "The same seed and budget send the same requests. Every answer 401 or 403 is a setup "
        f"error. {_EXITS}",
    )
    add_target_options(parser, select_help="fuzz check ids, areas or requirement IDs")
    add_run_options(parser)
    add_fuzz_options(parser)
    parser.set_defaults(handler=_run, preset="fuzz")


def _list(args: argparse.Namespace) -> int:
    from .._catalogue import load_catalogue
    from .._plan import make_plan
    from .._results import EXIT_OK

    config = config_from(args)
    console.write_lines(console.plan_lines(make_plan(config, load_catalogue())))
    return EXIT_OK


def add_list(commands: Commands) -> None:
    parser = commands.add_parser(
        "list", help="show what `run` would run with the same selection (a dry run)"
    )
    add_target_options(
        parser, select_help="scenario ids, fuzz check ids, areas, tags or requirement IDs"
    )
    parser.set_defaults(handler=_list)
