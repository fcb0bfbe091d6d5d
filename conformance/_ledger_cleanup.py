"""``jr-conformance cleanup --ledger FILE``: finish what a crashed or interrupted run could not.

Beside ``run()`` rather than inside the cleanup machinery: it checks the target first (the
preflight) and then hands the ledger's open items to :func:`~conformance._cleanup.clean`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._cleanup import CLEANUP_WAIT_S, ItemCleanup, clean
from ._config import load_config
from ._exceptions import SetupError, UsageError
from ._http import Session
from ._ledger import Item, Ledger, load_ledger, tenant_key
from ._preflight import preflight
from ._results import EXIT_NONCONFORMANT, EXIT_OK, EXIT_SETUP, LeftBehind
from .report._console import out

__all__ = ["LedgerCleanup", "cleanup_ledger"]


@dataclass
class LedgerCleanup:
    """What ``jr-conformance cleanup`` did."""

    cleaned: int = 0
    left_behind: list[LeftBehind] = field(default_factory=list)
    setup_error: str | None = None

    @property
    def exit_code(self) -> int:
        """What ``jr-conformance cleanup`` exits with: 3 the target could not be reached, 1
        something left behind, else 0."""
        if self.setup_error:
            return EXIT_SETUP
        return EXIT_NONCONFORMANT if self.left_behind else EXIT_OK


def cleanup_ledger(
    path: Path,
    flags: Mapping[str, Any],
    *,
    wait_s: float = CLEANUP_WAIT_S,
    say: Callable[[str], None] = out,
    env: Mapping[str, str] | None = None,
) -> LedgerCleanup:
    """Finish the cleanup a crashed or interrupted run could not: every open item of the ledger
    at ``path`` on its target, with the credentials of the environment (entries first, then
    runs, newest first). Items of
    another target or other credentials are left alone (and reported)."""
    items, lost = load_ledger(path)
    outcome = LedgerCleanup()
    pending = [item for item in items if item.open]
    for item in lost:
        say(
            f"unknown: a {item.kind} create of run {item.run_id} got no readable answer "
            f"({item.reason}); the suite cannot name it, check the tenant"
        )
    if not pending:
        say(f"nothing to clean up in {path}")
        return outcome
    ledger = Ledger(path, run_id=pending[-1].run_id, base_url=pending[-1].base_url)
    # The embedded reference kept its data in memory: it went when its run ended.
    for item in [i for i in pending if i.implementation == "reference"]:
        ledger.settle(item, "cleaned", "gone", "the embedded reference server is gone")
    pending = [i for i in pending if i.implementation != "reference"]
    if not pending:
        say(f"nothing to clean up in {path} (its items were on the embedded reference server)")
        return outcome
    base_url = flags.get("base_url")
    if base_url is None:
        targets = sorted({item.base_url for item in pending})
        if len(targets) > 1:
            raise UsageError(
                f"ledger {path} names several targets ({', '.join(targets)}): pass --base-url"
            )
        base_url = targets[0]
    config = load_config({**flags, "base_url": base_url}, env=env)
    assert config.base_url is not None
    session = Session(config.http_settings("jrc-cleanup"), config.auth())
    key = tenant_key(config.auth())
    with session:
        try:
            preflight(session)
        except SetupError as exc:
            outcome.setup_error = str(exc)
            say(f"setup error: {exc}")
            return outcome
        eligible: list[Item] = []
        for item in pending:
            why = ""
            if item.base_url.rstrip("/") != config.base_url.rstrip("/"):
                why = f"recorded for {item.base_url}, not {config.base_url}"
            elif item.tenant != key:
                why = f"recorded for tenant {item.tenant}; these credentials are {key}"
            if why:
                outcome.left_behind.append(LeftBehind(item.kind, item.number, "unknown", why))
                say(f"left alone: {item.kind} {item.number}: {why}")
            else:
                eligible.append(item)

        def report(item: Item, result: ItemCleanup) -> None:
            if result.cleaned:
                outcome.cleaned += 1
                say(f"cleaned: {item.kind} {item.number}")
            else:
                say(f"left behind: {item.kind} {item.number} ({result.status}): {result.reason}")

        outcome.left_behind += clean(
            ledger, eligible, lambda k: session if k == key else None, wait_s=wait_s, on_item=report
        )
    say(f"{outcome.cleaned} cleaned, {len(outcome.left_behind)} left behind")
    return outcome
