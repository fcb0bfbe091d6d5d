"""Cleaning up what the ledger holds: cancel, wait for the cancel to settle, delete, confirm.

Each item is driven by what a read of it shows, so cleanup works from any state and after any
crash: a run that is still executing is waited for (it cannot be cancelled while Processing), a
Pending, Completed or Error run is cancelled, a Cancelled one deleted, and not-found at any point
means cleaned. An entry the suite created by hand is un-transferred if it must be, cancelled and
deleted. Every wait is bounded; what is still there at the deadline is *left behind*, with its
number and last status, never retried for ever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import _envelope as envelope
from . import _lifecycle as lifecycle
from . import _paths as paths
from ._exceptions import ConformanceError, TransportError
from ._http import Request, Response, Session
from ._ledger import RUN, Item, Ledger, is_absent
from ._results import CheckResult, LeftBehind

__all__ = [
    "AT_ONCE",
    "CLEANUP_WAIT_S",
    "Cleaner",
    "ItemCleanup",
    "clean",
    "settle_or_clean",
    "worth_retrying",
]

#: How long one item may take to reach not-found.
CLEANUP_WAIT_S = 120.0
#: Backoff between reads: grows with the time waited, like the scenario runner's polling.
_FIRST_WAIT_S = 0.05
_GROWTH = 0.1
_MAX_WAIT_S = 2.0
#: Each action is sent at most this often per item: a server that keeps refusing is not hammered.
_MAX_ACTIONS = 2
#: An action is repeated only when the item shows the same state this long after it.
_RESEND_S = 1.5
#: How long an item is watched in a state an earlier item stayed in for its whole deadline.
_STALL_GRACE_S = 1.0
#: Run states that end by themselves: cleanup waits for them (up to its deadline).
_TRANSIENT = lifecycle.TRANSIENT

#: Statuses that stay until someone acts: an item a cleanup of this run already gave up on in
#: one of them gets the same refusals again, so the end of the run does not try it again.
_SETTLED = lifecycle.SETTLED | {lifecycle.ENTRY_CREATED}


@dataclass
class ItemCleanup:
    """What cleanup made of one item."""

    cleaned: bool
    status: str
    reason: str = ""
    #: The target stopped answering (a transport failure, or a gateway's answer that stayed
    #: transient after the session's retries): nothing more is tried on it in this cleanup.
    unreachable: bool = False
    #: The deadline ran out while the item showed a state that ends by itself.
    stalled: bool = False


class Cleaner:
    """Cleans items through one session (of the tenant that created them)."""

    def __init__(
        self,
        session: Session,
        *,
        wait_s: float = CLEANUP_WAIT_S,
        check: CheckResult | None = None,
        sleep: Callable[[float], None] = time.sleep,
        stalled: str | None = None,
    ) -> None:
        self.session = session
        self.wait_s = wait_s
        self.check = check
        self._sleep = sleep
        #: A state an earlier item of this cleanup stayed in for its whole deadline: an item
        #: seen in it is given up on after a short grace instead of another deadline.
        self.stalled = stalled

    def clean(self, item: Item) -> ItemCleanup:
        """Drive ``item`` to not-found within ``wait_s``.

        An action (cancel, delete) is sent again only when the item still shows the same state
        ``_RESEND_S`` later, at most ``_MAX_ACTIONS`` times; when none is left and the state is
        not one that ends by itself, cleanup gives up on the item at once.
        """
        started = time.monotonic()
        deadline = started + self.wait_s
        sent: dict[str, int] = {}
        refused: set[str] = set()  # actions refused in the current status: not asked again
        last_name, last_at, last_status = "", float("-inf"), ""
        status, reason = "unknown", ""
        looked_for_transfers = False
        while True:
            try:
                response = self._send("GET", paths.read_path(item.kind, item.number), item, "read")
                if is_absent(response):
                    return ItemCleanup(True, "not found")
                status, body = _status(response)
                if status != last_status:
                    refused.clear()
                    last_status = status
                if (
                    item.kind == RUN
                    and status == lifecycle.COMPLETED
                    and sent.get("cancel")
                    and "cancel" not in refused
                    and not looked_for_transfers
                ):
                    # The documented partial cancel: a cancel is accepted, but a run with an
                    # entry transferred to accounting stays Completed. No wait changes that.
                    looked_for_transfers = True
                    transferred = self._transferred_entry(item)
                    if transferred is not None:
                        return ItemCleanup(
                            False,
                            status,
                            f"stays Completed: its entry {transferred} is transferred to "
                            "accounting, so it cannot be cancelled (changing that needs the "
                            "override permission)",
                        )
                action = self._next(item, status, body, sent, refused)
                now = time.monotonic()
                settled = now - last_at >= _RESEND_S
                if action is not None and (action[3] != last_name or settled):
                    method, path, json_body, name = action
                    sent[name] = sent.get(name, 0) + 1
                    last_name, last_at = name, now
                    answer = self._send(method, path, item, name, json_body)
                    reason = ""
                    if not _accepted(answer):
                        reason = f"{name} refused: {_reason(answer)}"
                        refused.add(name)
                    continue  # read again at once: the action may have finished it
                if action is None and status not in _TRANSIENT and (refused or settled):
                    return ItemCleanup(False, status, reason or f"stays {status}")
            except TransportError as exc:
                # The session already retried what is safe to retry: waiting out the deadline
                # would only sleep through every item of a target that is gone.
                return ItemCleanup(False, status, str(exc), unreachable=True)
            except ConformanceError as exc:  # a guard: asking again gets the same answer
                return ItemCleanup(False, status, str(exc))
            waited = time.monotonic() - started
            if time.monotonic() >= deadline:
                why = reason or f"still {status} after {self.wait_s:g} s"
                return ItemCleanup(False, status, why, stalled=status in _TRANSIENT)
            if status == self.stalled and waited >= _STALL_GRACE_S:
                return ItemCleanup(
                    False,
                    status,
                    f"still {status} after {waited:.1f} s; not waited for, as an earlier item "
                    f"stayed {status} for the whole {self.wait_s:g} s",
                )
            self._sleep(max(0.0, min(_pause(waited), deadline - time.monotonic())))

    def settle(self, item: Item) -> bool:
        """Wait, up to ``wait_s``, until run ``item`` is gone or in a state that does not end by
        itself (no longer executing, cancelling or being deleted); whether it got there. An
        entry has no such state."""
        if item.kind != RUN:
            return True
        started = time.monotonic()
        while True:
            try:
                response = self._send("GET", paths.read_path(item.kind, item.number), item, "read")
            except (TransportError, ConformanceError):
                return False
            if is_absent(response) or _status(response)[0] not in _TRANSIENT:
                return True
            waited = time.monotonic() - started
            if waited >= self.wait_s:
                return False
            self._sleep(max(0.0, min(_pause(waited), self.wait_s - waited)))

    def _next(
        self,
        item: Item,
        status: str,
        body: dict[str, object],
        sent: dict[str, int],
        refused: set[str],
    ) -> tuple[str, str, object, str] | None:
        """The next action for ``item`` in ``status``, or ``None`` to wait (or give up)."""

        def allowed(name: str) -> bool:
            return name not in refused and sent.get(name, 0) < _MAX_ACTIONS

        run = item.kind == RUN
        delete = paths.DELETE_RUN if run else paths.DELETE_ENTRY
        cancel = paths.CANCEL_RUN if run else paths.CANCEL_ENTRY
        if status in lifecycle.DELETABLE:  # a run's Cancelled is an entry's too
            if not allowed("delete"):
                return None
            return ("DELETE", paths.path(delete, item.number), None, "delete")
        if run:
            # Processing and the in-progress states end by themselves: wait for them.
            if status in lifecycle.CANCELLABLE and allowed("cancel"):
                return ("PUT", paths.path(cancel, item.number), None, "cancel")
            return None
        # An entry: one that is being transferred to accounting cannot be cancelled.
        transferred = body.get("transferredToAccounting")
        if transferred not in (None, "No") and allowed("untransfer"):
            return (
                "PUT",
                paths.path(paths.UPDATE_ENTRY, item.number),
                {"transferredToAccounting": "No"},
                "untransfer",
            )
        if not allowed("cancel"):
            return None
        return ("PUT", paths.path(cancel, item.number), None, "cancel")

    def _transferred_entry(self, item: Item) -> str | None:
        """The first entry of run ``item`` transferred to accounting, if any (one page of
        300: a run with more entries than that is waited for as usual)."""
        path = paths.path(paths.LIST_ENTRIES, item.number)
        response = self._send("GET", path, item, "entries", params={"pageSize": 300})
        body = response.json_or_none()
        entries = body.get("journalEntries") if isinstance(body, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("transferredToAccounting") not in (None, "No"):
                return str(entry.get("number") or entry.get("journalEntryNumber") or "(unnamed)")
        return None

    def _send(
        self,
        method: str,
        path: str,
        item: Item,
        step: str,
        body: object = None,
        params: Mapping[str, Any] | None = None,
    ) -> Response:
        request = Request(method, path, json=body, params=params)
        return self.session.do(request, check=self.check, track=f"cleanup.{item.number}.{step}")


def clean(
    ledger: Ledger,
    items: Sequence[Item],
    session_for: Callable[[str], Session | None],
    *,
    wait_s: float = CLEANUP_WAIT_S,
    check: CheckResult | None = None,
    on_item: Callable[[Item, ItemCleanup], None] | None = None,
) -> list[LeftBehind]:
    """Clean ``items``, the entries first (so an entry goes before the run it belongs to),
    then the runs, each newest first, up to ``AT_ONCE`` of a kind at the same time (nothing of
    one kind waits for another of that kind); record each outcome in the ledger, and return
    what was left behind.

    ``session_for(tenant)`` gives a session of the tenant that created an item, or ``None`` when
    that tenant cannot be reached any more."""
    sweep = _Sweep(session_for, wait_s, check)
    left: list[LeftBehind] = []
    ordered = sorted(items, key=lambda i: (i.kind == RUN, -i.seq))
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        for batch in _batches(ordered):
            for item, outcome in zip(batch, sweep.clean_batch(batch, pool), strict=True):
                if outcome.cleaned:
                    ledger.settle(item, "cleaned", outcome.status)
                else:
                    ledger.settle(item, "left-behind", outcome.status, outcome.reason)
                    left.append(LeftBehind(item.kind, item.number, outcome.status, outcome.reason))
                if on_item is not None:
                    on_item(item, outcome)
    return left


#: Items cleaned at the same time (the fuzz stage's follow-through keeps to it too).
AT_ONCE = 8


def _batches(items: Sequence[Item]) -> Iterator[list[Item]]:
    """``items`` in order, those of one kind next to one another grouped, up to ``AT_ONCE``."""
    batch: list[Item] = []
    for item in items:
        if batch and (item.kind != batch[0].kind or len(batch) == AT_ONCE):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _try_alone(outcome: ItemCleanup) -> bool:
    return not outcome.cleaned and not outcome.unreachable and not outcome.stalled


class _Sweep:
    """What one cleanup learns as it goes: tenants whose target stopped answering, and a state
    the target left an item in for a whole deadline."""

    def __init__(
        self,
        session_for: Callable[[str], Session | None],
        wait_s: float,
        check: CheckResult | None,
    ) -> None:
        self.session_for = session_for
        self.wait_s = wait_s
        self.check = check
        self.gone: dict[str, str] = {}  # tenant -> why its target stopped answering
        self.heard: set[str] = set()  # tenants whose target answered
        self.stalled: str | None = None

    def clean(self, item: Item) -> ItemCleanup:
        session = self.session_for(item.tenant)
        if session is None:
            return ItemCleanup(False, "unknown", f"no credentials for {item.tenant}")
        if item.tenant in self.gone:
            return ItemCleanup(
                False, item.status or "unknown", f"not tried: {self.gone[item.tenant]}"
            )
        cleaner = Cleaner(session, wait_s=self.wait_s, check=self.check, stalled=self.stalled)
        return cleaner.clean(item)

    def clean_batch(self, batch: Sequence[Item], pool: ThreadPoolExecutor) -> list[ItemCleanup]:
        """The outcome of each item of ``batch``, cleaned side by side. The first item of a
        tenant not heard from yet goes alone: a target that is gone costs one failed request,
        not a batch of them. A target may refuse what it is asked side by side (a cancel while
        another is in progress): what the batch left in a state that stays is tried once more,
        on its own."""

        def one(index: int) -> ItemCleanup:
            return self.learn(batch[index], self.clean(batch[index]))

        alone: dict[str, int] = {}
        for index, item in enumerate(batch):
            if item.tenant not in self.heard:
                alone.setdefault(item.tenant, index)
        outcomes = {index: one(index) for index in alone.values()}
        rest = [index for index in range(len(batch)) if index not in outcomes]
        outcomes.update(zip(rest, pool.map(one, rest), strict=True))
        if len(batch) > 1:
            for index in rest:
                if _try_alone(outcomes[index]):
                    outcomes[index] = one(index)
        return [outcomes[index] for index in range(len(batch))]

    def learn(self, item: Item, outcome: ItemCleanup) -> ItemCleanup:
        if outcome.stalled and self.stalled is None:
            self.stalled = outcome.status
        if outcome.unreachable:
            self.gone.setdefault(item.tenant, f"the target stopped answering ({outcome.reason})")
        else:
            self.heard.add(item.tenant)
        return outcome


def _pause(waited: float) -> float:
    """How long to wait before the next read of an item, ``waited`` s into its wait."""
    return min(_MAX_WAIT_S, _FIRST_WAIT_S + _GROWTH * waited)


def settle_or_clean(
    ledger: Ledger,
    items: Sequence[Item],
    session: Session,
    *,
    wait_s: float = CLEANUP_WAIT_S,
    check: CheckResult | None = None,
) -> list[LeftBehind]:
    """Make the tenant fit for the next create without cleaning: wait until every run of
    ``items`` has settled, leaving them to a later cleanup (the run's cleanup stage); if one
    does not settle, clean them all now (or give up on them). What was left behind."""
    settler = Cleaner(session, wait_s=wait_s, check=check)
    if all(settler.settle(item) for item in items):
        return []
    return clean(ledger, items, lambda key: session, wait_s=wait_s, check=check)


def worth_retrying(item: Item) -> bool:
    """Whether another cleanup of ``item`` may end differently from the last one: it was never
    tried, or it was left behind in a state that ends by itself, or after a failed request."""
    return item.state != "left-behind" or item.status not in _SETTLED


def lost_items(ledger: Ledger) -> list[LeftBehind]:
    """Creates whose answer never came: reported, since nothing can find them by number."""
    return [LeftBehind(i.kind, i.number, i.status, i.reason) for i in ledger.lost()]


# -- reading answers -----------------------------------------------------------------------------


def _status(response: Response) -> tuple[str, dict[str, object]]:
    body = response.json_or_none()
    if not isinstance(body, dict):
        kind = response.headers.get("content-type", "no content type")
        return f"HTTP {response.status_code} ({kind}, not JSON)", {}
    status = body.get("status")
    if isinstance(status, str) and status:
        return status, body
    return f"HTTP {response.status_code} without a status", body


def _accepted(response: Response) -> bool:
    return envelope.is_accepted(response.status_code, response.json_or_none())


def _reason(response: Response) -> str:
    first = envelope.first_reason(response.json_or_none())
    if first is not None:
        code, message = first
        return f"{message} (code {code}, HTTP {response.status_code})"
    return f"HTTP {response.status_code}"
