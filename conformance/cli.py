"""The ``jr-conformance`` command: argument parsing only.

Each sub-command parses its flags and calls the Python API; every :class:`ConformanceError` becomes
one readable line on stderr and its documented exit code, never a traceback.

Exit codes: 0 everything as expected; 1 the implementation does not conform; 2 usage or
configuration error; 3 setup error (the target could not be tested); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ._exceptions import ConformanceError
from ._version import __version__

EXIT_OK = 0
EXIT_NONCONFORMANT = 1
EXIT_USAGE = 2
EXIT_SETUP = 3
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace], int]


def _spec_info(args: argparse.Namespace) -> int:
    from ._catalogue import load_catalogue

    catalogue = load_catalogue(args.spec, args.requirements)
    print(catalogue.summary())
    return EXIT_OK


def _add_spec_info(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "spec-info",
        help="validate the spec and the requirement catalogue and summarise them",
        description="Load, validate and lint the OpenAPI spec and the requirement catalogue, then "
        "print the operations and the requirement counts by level and area. Exits 3 with one "
        "line naming the file and the problem when either is invalid.",
    )
    parser.add_argument(
        "--spec", type=Path, metavar="PATH", help="an OpenAPI spec instead of the bundled one"
    )
    parser.add_argument(
        "--requirements",
        type=Path,
        metavar="PATH",
        help="a requirement catalogue instead of the bundled one (for catalogue authors)",
    )
    parser.set_defaults(handler=_spec_info)


def _diff(args: argparse.Namespace) -> int:
    from .report import diff_results, load_result

    diff = diff_results(load_result(args.old), load_result(args.new))
    print(diff.render_text())
    return EXIT_NONCONFORMANT if diff.regressed else EXIT_OK


def _add_diff(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "diff",
        help="compare two results.json files; exit 1 if a check newly fails or errors",
    )
    parser.add_argument("old", type=Path, metavar="OLD.json", help="the earlier results.json")
    parser.add_argument("new", type=Path, metavar="NEW.json", help="the later results.json")
    parser.set_defaults(handler=_diff)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jr-conformance",
        description="Conformance suite for implementations of the Journal Runs REST API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_spec_info(commands)
    _add_diff(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except ConformanceError as exc:
        print(f"jr-conformance: {type(exc).__name__}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("jr-conformance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
