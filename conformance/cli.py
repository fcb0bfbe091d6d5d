"""The ``jr-conformance`` command: argument parsing only.

Each sub-command parses its flags and calls the Python API; every :class:`ConformanceError` becomes
one readable line on stderr and its documented exit code, never a traceback.

Exit codes: 0 everything as expected; 1 the implementation does not conform; 2 usage or
configuration error; 3 setup error (the target could not be tested); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._exceptions import ConformanceError
from ._results import (
    EXIT_INTERRUPTED,
    EXIT_NONCONFORMANT,
    EXIT_OK,
    EXIT_SETUP,
    CheckResult,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._config import Config


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


def _matrix(args: argparse.Namespace) -> int:
    from .report._matrix import write_matrix

    for fmt, path in write_matrix(args.results, args.name or (), args.out).items():
        print(f"matrix ({fmt}): {path}")
    return EXIT_OK


def _add_matrix(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _serve(args: argparse.Namespace) -> int:
    from .reference import VARIANTS, ReferenceSettings, serve

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
    serve(settings, announce=lambda line: print(line, flush=True))
    return EXIT_OK


def _period_range(text: str) -> tuple[str, str]:
    """``--periods FIRST:LAST`` (months, ``2024-01:2026-12``); ReferenceSettings checks them."""
    first, colon, last = text.partition(":")
    if not colon or not first.strip() or not last.strip():
        raise argparse.ArgumentTypeError(f"expected FIRST:LAST like 2024-01:2026-12, not {text!r}")
    return first.strip(), last.strip()


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _scenarios(args: argparse.Namespace) -> int:
    from ._config import load_config
    from ._results import Status
    from .scenarios import result_lines, run_selected, summary_line

    flags = {"config": args.config, "base_url": args.base_url, "select": args.select or None}
    for name in ("period", "second_period", "earliest_date"):
        flags[name] = getattr(args, name, None)
    if args.capabilities is not None:
        flags["capabilities"] = args.capabilities
    config = load_config(flags)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)

    def show(result: CheckResult) -> None:
        print("\n".join(result_lines(result, verbose=args.verbose)), flush=True)

    run = run_selected(config, paths=args.scenarios, concurrency=args.concurrency, on_result=show)
    print(summary_line(run))
    statuses = {result.status for result in run.results}
    if statuses == {Status.ERROR}:
        return EXIT_SETUP
    if statuses & {Status.FAIL, Status.ERROR}:
        return EXIT_NONCONFORMANT
    return EXIT_OK


def _add_scenarios(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "scenarios",
        help="run the YAML scenarios (the embedded reference when no --base-url)",
        description="Run the scenario library (or --scenarios files) against a target and print "
        "each scenario's verdict, and for each failed expectation the requirement it belongs to. "
        "Credentials come from the environment only: JR_TOKEN, or JR_CLIENT_ID and "
        "JR_CLIENT_SECRET. Exit 0 all passed (or skipped), 1 a scenario failed or errored, "
        "2 bad usage or a malformed scenario file, 3 the target could not be tested.",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="the target (default: the embedded reference)"
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="a TOML or YAML config file")
    parser.add_argument(
        "--select",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="scenario ids, tags, areas or requirement IDs (wildcards allowed); default: all",
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        action="extend",
        type=Path,
        metavar="PATH",
        help="scenario files or folders instead of the bundled library",
    )
    _add_tenant_options(parser)
    parser.add_argument(
        "--capabilities",
        metavar="LIST",
        help="comma-separated capabilities the target offers (journal-entries, manual-entries, "
        "idempotency, gzip-requests, reference-controls, transfer-override)",
    )
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="scenarios at once (reference only; default 8)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every expectation, not only failures"
    )
    parser.set_defaults(handler=_scenarios)


def _fuzz(args: argparse.Namespace) -> int:
    from ._catalogue import load_catalogue
    from ._results import Status
    from .fuzz import FuzzOptions, command_target, exit_status, fuzz, outcome_lines

    options = FuzzOptions(max_examples=args.max_examples, seed=args.seed, max_time_s=args.max_time)
    catalogue = load_catalogue()
    with command_target(args.base_url, args.token, rate_limit_per_min=args.rate_limit) as target:
        outcome = fuzz(catalogue, target, options)
    for line in outcome_lines(outcome, seed=options.seed, max_examples=options.max_examples):
        print(line)
    worst = exit_status(outcome.checks)
    if worst is Status.FAIL:
        return EXIT_NONCONFORMANT
    return EXIT_NONCONFORMANT if worst is Status.ERROR else EXIT_OK


def _add_fuzz(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "fuzz",
        help="fuzz a target from the spec with schemathesis (the embedded reference by default)",
        description="Run only the fuzz stage: schemathesis generates requests from the spec and "
        "every answer is judged by its built-in checks and the Journal Runs rules. With no "
        "--base-url the embedded reference server is started and a token minted for it. The "
        "same seed and budget send the same requests. Exit 0 all passed, 1 a check failed or "
        "reached no verdict, 2 bad usage, 3 the target could not be tested (unreachable, or "
        "every answer 401/403).",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="the target (default: the embedded reference server)"
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="bearer token (default: JR_TOKEN; prefer the variable, a flag shows in ps)",
    )
    parser.add_argument(
        "--max-examples", type=int, default=25, metavar="N", help="examples per operation (25)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed (default 0)")
    parser.add_argument(
        "--max-time",
        type=float,
        metavar="S",
        help="time budget in seconds (a bounded run is not exactly reproducible)",
    )
    parser.add_argument(
        "--rate-limit", type=_rate, metavar="N/min", help="send at most N requests a minute"
    )
    parser.set_defaults(handler=_fuzz)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    """Flags every command that talks to a target shares. Credentials are never flags: they come
    from the environment (JR_TOKEN, or JR_CLIENT_ID and JR_CLIENT_SECRET)."""
    parser.add_argument(
        "--base-url", metavar="URL", help="the target (default: the embedded reference server)"
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="a TOML or YAML config file")
    parser.add_argument(
        "--select",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="scenario ids, fuzz check ids, areas, tags or requirement IDs (wildcards allowed)",
    )
    parser.add_argument(
        "--capabilities",
        metavar="LIST",
        help="comma-separated capabilities the target offers (journal-entries, manual-entries, "
        "idempotency, gzip-requests, reference-controls, transfer-override)",
    )
    parser.add_argument("--zuora-version", metavar="VERSION", help="Zuora-Version to send")
    _add_tenant_options(parser)


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


def _rate(text: str) -> float:
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


def _config_from(args: argparse.Namespace) -> Config:
    from ._config import load_config

    flags = {
        name: getattr(args, attr, None)
        for name, attr in (
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
    }
    for name in ("read_only", "allow_production", "strict"):
        if getattr(args, name, False):
            flags[name] = True
    config = load_config(flags)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return config


def _run(args: argparse.Namespace) -> int:
    from ._progress import Progress
    from ._results import Status
    from ._run import run
    from .report import suggest_entry, write_reports

    config = _config_from(args)
    progress = Progress(config.progress)
    stop = threading.Event()  # set by SIGINT or SIGTERM: the run stops, cleans up, reports
    try:
        result = run(
            config,
            progress=progress,
            stop=stop,
            pending_wait_s=args.pending_wait,
            cleanup_wait_s=args.cleanup_wait,
        )
    finally:
        progress.close()  # the live bars end before the verdict is printed
    paths = write_reports(result, config.reports_dir, config.formats)
    must = result.score("MUST")
    counts = ", ".join(f"{n} {label}" for label, n in result.counts().items() if n)
    print(
        f"{result.verdict.label.upper()}: MUST {must.passed}/{must.total} ({must.percent:.1f}%), "
        f"{counts or 'no checks'}; {result.requests_sent()} requests "
        f"({result.retries()} retried), {result.runs_created()} journal runs created, against "
        f"{result.target.base_url}"
    )
    if result.setup_error:
        print(f"setup error: {result.setup_error}")
    for item in result.left_behind:
        print(f"left behind: {item.kind} {item.number} ({item.status}): {item.reason}")
    if result.left_behind and result.target.implementation != "reference":
        ledger = config.reports_dir / "ledger.jsonl"
        print(f"retry the cleanup later with: jr-conformance cleanup --ledger {ledger}")
    for problem in result.gate_problems:
        print(f"expected-failures: {problem}")
    warnings = [c for c in result.checks if c.status is Status.WARN]
    if warnings:
        print(
            f"{len(warnings)} warning(s): SHOULD or MAY requirements not met "
            f"({', '.join(c.id for c in warnings)}); "
            + ("--strict makes them fail the run" if result.strict else "--strict fails on them")
        )
    gated = Status.WARN if result.strict else Status.FAIL
    new_failures = [c for c in result.checks if c.status >= gated]
    if new_failures and config.expected_failures is not None:
        print("new failures; if they are known, add to the expected-failures file:")
        for check in new_failures:
            print(suggest_entry(check))
    for fmt, path in paths.items():
        print(f"report ({fmt}): {path}")
    if result.interrupted:
        print("interrupted: the reports show what ran before the interruption")
    return result.exit_code


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "run",
        help="the whole suite: preflight, scenarios, fuzzing; writes the reports",
        description="Run preflight, the scenarios and the fuzz stage against a target (the "
        "embedded reference server when no --base-url), clean up what the run created (its "
        "ledger is reports/ledger.jsonl) and write the reports. Exit 0 all as expected (warnings, "
        "SHOULD or MAY requirements not met, included unless --strict), 1 "
        "non-conformance (or a stale expected-failures file), 2 usage or configuration error, "
        "3 setup error (the target could not be tested), 130 interrupted (SIGINT or SIGTERM: "
        "the run still cleans up and writes its reports).",
    )
    _add_target_options(parser)
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
    parser.add_argument("--max-examples", type=int, metavar="N", help="fuzz examples per operation")
    parser.add_argument("--seed", type=int, metavar="N", help="fuzz seed (default 0)")
    parser.add_argument("--max-time", type=float, metavar="S", help="fuzz stage time budget")
    parser.add_argument(
        "--rate-limit", type=_rate, metavar="N/min", help="send at most N requests a minute"
    )
    parser.add_argument("--tenants", type=int, metavar="N", help="scenarios run in parallel")
    parser.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="requests at once on one tenant, for checks that create no journal run (8)",
    )
    parser.add_argument(
        "--pending-wait",
        type=float,
        default=120.0,
        metavar="S",
        help="how long to wait for a journal run the suite did not create to finish (120)",
    )
    parser.add_argument(
        "--cleanup-wait",
        type=float,
        default=120.0,
        metavar="S",
        help="how long cleaning up one run or entry may take (120)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="run only what reads; every write is refused (the way to test a production host)",
    )
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
    parser.set_defaults(handler=_run)


def _list(args: argparse.Namespace) -> int:
    from ._catalogue import load_catalogue
    from ._run import make_plan

    config = _config_from(args)
    plan = make_plan(config, load_catalogue())
    for scenario in plan.scenarios:
        needs = f" [needs {', '.join(scenario.capabilities)}]" if scenario.capabilities else ""
        ids = ", ".join(scenario.all_requirement_ids())
        print(f"scenario  {scenario.id}: {scenario.title} ({ids}){needs}")
    for check in plan.fuzz_checks:
        print(f"fuzz      {check.id}: {check.title} ({', '.join(check.requirement_ids)})")
    for item in plan.left_out:
        print(f"skipped   {item.id}: writes, and the run is read-only")
    print(f"{len(plan.scenarios)} scenarios, {len(plan.fuzz_checks)} fuzz checks")
    return EXIT_OK


def _add_list(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "list", help="show what `run` would run with the same selection (a dry run)"
    )
    _add_target_options(parser)
    parser.add_argument("--read-only", action="store_true", help="only what reads")
    parser.set_defaults(handler=_list)


def _cleanup(args: argparse.Namespace) -> int:
    from ._ledger_cleanup import cleanup_ledger

    flags = {"config": args.config, "base_url": args.base_url}
    if args.allow_production:
        flags["allow_production"] = True
    outcome = cleanup_ledger(args.ledger, flags, wait_s=args.wait, say=print)
    if outcome.setup_error:
        return EXIT_SETUP
    return EXIT_NONCONFORMANT if outcome.left_behind else EXIT_OK


def _add_cleanup(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    parser.add_argument(
        "--base-url", metavar="URL", help="the target (default: the one the ledger names)"
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="a TOML or YAML config file")
    parser.add_argument(
        "--wait", type=float, default=120.0, metavar="S", help="seconds each item may take (120)"
    )
    parser.add_argument(
        "--allow-production", action="store_true", help="the ledger's target is a production host"
    )
    parser.set_defaults(handler=_cleanup)


def _selftest(args: argparse.Namespace) -> int:
    from ._selftest import (
        CleanOutcome,
        FaultOutcome,
        outcome_line,
        render_text,
        selftest,
        write_reports,
    )

    def show(outcome: FaultOutcome | CleanOutcome) -> None:
        if not args.quiet:
            print(outcome_line(outcome), flush=True)

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
    print(render_text(result))
    for fmt, path in write_reports(result, args.reports).items():
        print(f"report ({fmt}): {path}")
    return EXIT_OK if result.passed else EXIT_NONCONFORMANT


def _add_selftest(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    parser.add_argument(
        "--fault",
        action="append",
        metavar="NAME",
        help="only these faults (repeatable; wildcards allowed; default: all)",
    )
    parser.add_argument(
        "--clean",
        action="append",
        metavar="NAME",
        help="only these clean configurations (repeatable; wildcards allowed; default: all)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        metavar="NAME",
        help="only these reference variants (repeatable; wildcards allowed; default: all); each "
        "runs alone in both error styles, and together in each clean configuration",
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
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="fuzz seed (default 0)")
    parser.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where selftest.json and selftest.md go (reports/)",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per finished fault")
    parser.set_defaults(handler=_selftest)


def _add_export(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``export arazzo``: its parser and handler live in ``conformance/export``."""
    from .export import add_export_command

    add_export_command(commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jr-conformance",
        description="Conformance suite for implementations of the Journal Runs REST API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_run(commands)
    _add_list(commands)
    _add_cleanup(commands)
    _add_spec_info(commands)
    _add_diff(commands)
    _add_matrix(commands)
    _add_serve(commands)
    _add_scenarios(commands)
    _add_fuzz(commands)
    _add_selftest(commands)
    _add_export(commands)
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
