"""The ``jr-conformance`` command: argument parsing only, one module per command or group.

- :mod:`._suite`: ``run`` and its presets ``scenarios`` and ``fuzz``, and ``list``
- :mod:`._cleanup`: ``cleanup``
- :mod:`._offline`: ``spec-info``, ``diff``, ``matrix`` (read files, run nothing)
- :mod:`._serve`: ``serve``
- :mod:`._selftest`: ``selftest``
- :mod:`conformance.export`: ``export arazzo`` (its parser and handler live with the export)
- :mod:`._options`: the option groups commands share, and flags -> :class:`Config`

Each sub-command parses its flags and calls the Python API; every :class:`ConformanceError`
becomes one readable line on stderr and its documented exit code, never a traceback. What is
printed is worded in :mod:`conformance.report._console`.

Exit codes: 0 everything as expected; 1 the implementation does not conform; 2 usage or
configuration error; 3 setup error (the target could not be tested); 130 interrupted.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._exceptions import ConformanceError
from .._results import EXIT_INTERRUPTED
from .._version import __version__
from ..report import _console as console
from ._cleanup import add_cleanup
from ._offline import add_diff, add_matrix, add_spec_info
from ._selftest import add_selftest
from ._serve import add_serve
from ._suite import add_fuzz, add_list, add_run, add_scenarios

if TYPE_CHECKING:
    from ._options import Commands

Command = Callable[[argparse.Namespace], int]


def add_export(commands: Commands) -> None:
    """``export arazzo``: its parser and handler live in ``conformance/export``."""
    from ..export import add_export_command

    add_export_command(commands)


#: The sub-commands, in the order ``--help`` lists them.
COMMANDS = (
    add_run,
    add_list,
    add_cleanup,
    add_spec_info,
    add_diff,
    add_matrix,
    add_serve,
    add_scenarios,
    add_fuzz,
    add_selftest,
    add_export,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jr-conformance",
        description="Conformance suite for implementations of the Journal Runs REST API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except ConformanceError as exc:
        console.err(console.error_line(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        console.err(console.INTERRUPTED)
        return EXIT_INTERRUPTED


__all__ = ["build_parser", "main"]
