"""Commands that read files and run nothing: ``spec-info``, ``diff`` and ``matrix``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .._results import EXIT_OK
from ..report import _console as console

if TYPE_CHECKING:
    from ._options import Commands


def _spec_info(args: argparse.Namespace) -> int:
    from .._catalogue import load_catalogue

    catalogue = load_catalogue(args.spec, args.requirements)
    console.out(catalogue.summary())
    return EXIT_OK


def add_spec_info(commands: Commands) -> None:
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
    from ..report import diff_results, load_result

    diff = diff_results(load_result(args.old), load_result(args.new))
    console.out(diff.render_text())
    return diff.exit_code


def add_diff(commands: Commands) -> None:
    parser = commands.add_parser(
        "diff",
        help="compare two results.json files; exit 1 if a check newly fails or errors",
    )
    parser.add_argument("old", type=Path, metavar="OLD.json", help="the earlier results.json")
    parser.add_argument("new", type=Path, metavar="NEW.json", help="the later results.json")
    parser.set_defaults(handler=_diff)


def _matrix(args: argparse.Namespace) -> int:
    from ..report._matrix import write_matrix

    paths = write_matrix(args.results, args.name or (), args.out)
    console.write_lines(console.report_lines(paths, "matrix"))
    return EXIT_OK


def add_matrix(commands: Commands) -> None:
    parser = commands.add_parser(
        "matrix",
        help="compare implementations: one page from several results.json files",
        description="Read several results.json files (nothing is run) and write matrix.html (one "
        "offline page) and matrix.md: requirements down, implementations across, each cell the "
        "requirement's status linking to the report.html next to that results.json, and each "
        "implementation's MUST, SHOULD and MAY scores. Exit 0 written, 2 a missing or invalid "
        "results file (one line naming it) or bad usage.",
    )
    parser.add_argument(
        "results", nargs="+", type=Path, metavar="RESULTS.json", help="results files, in order"
    )
    parser.add_argument(
        "--name",
        action="append",
        metavar="NAME",
        help="a column name per results file, in the same order (default: the target's host, "
        "or 'reference')",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports/matrix"),
        metavar="DIR",
        help="where matrix.html and matrix.md go (reports/matrix/)",
    )
    parser.set_defaults(handler=_matrix)
