"""cli/_options.py: the option groups commands share; a token is never a flag."""

from __future__ import annotations

import argparse

import pytest

from conformance.cli import build_parser, main
from conformance.cli._options import rate

TARGET_COMMANDS = ("run", "scenarios", "fuzz", "list", "cleanup")


@pytest.mark.parametrize("command", TARGET_COMMANDS)
def test_a_token_on_the_command_line_is_refused(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--ledger", "x.jsonl"] if command == "cleanup" else []
    with pytest.raises(SystemExit) as exit_:
        main([command, *extra, "--token", "tok-on-the-command-line"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--token" in err and "JR_TOKEN" in err
    assert "tok-on-the-command-line" not in err


@pytest.mark.parametrize("command", ("run", "scenarios", "fuzz"))
def test_run_and_its_presets_share_the_run_options(command: str) -> None:
    args = build_parser().parse_args(
        [command, "--reports", "out", "--strict", "--rate-limit", "60/min", "--jsonl"]
    )
    assert (args.reports.name, args.strict, args.rate_limit, args.progress) == (
        "out",
        True,
        60.0,
        "jsonl",
    )
    assert args.preset == command


def test_rates_are_per_minute() -> None:
    assert rate("2500/min") == rate("2500") == 2500.0
    for text in ("fast", "10/s", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            rate(text)
