"""The journal-run state machine and its clock.

    create -> Pending -> Processing -> Completed | Error          (the outcome of the run)
    cancel (from Pending, Error, Completed) -> CancelInprogress -> Cancelled
                                                                 | Completed (an entry refused)
    delete (from Cancelled) -> DeleteInprogress -> gone

Every step after a request is asynchronous: the request stores the time the next step is due
(``Run.due_at``) and ``advance`` applies whatever is due. The server calls ``advance`` from a
background task and before serving each request, and the due times live in the database, so a
restarted server picks up where the old one stopped (a cancel interrupted midway completes).
"""

from __future__ import annotations

import datetime as dt
import time

from . import _seed
from ._settings import ReferenceSettings
from ._store import Entry, Run, Store

#: "Only one journal run executes at a time per tenant."
EXECUTING = ("Pending", "Processing")
CANCELLABLE = ("Pending", "Error", "Completed")
DELETABLE = ("Cancelled",)
#: An entry whose transfer to accounting is done or under way cannot be cancelled.
TRANSFER_BLOCKS_CANCEL = ("Yes", "Processing")


def cancellable_statuses(settings: ReferenceSettings) -> tuple[str, ...]:
    statuses: tuple[str, ...] = CANCELLABLE
    if settings.has_fault("cancel-error-refused"):  # FAULT cancel-error-refused
        statuses = tuple(status for status in statuses if status != "Error")
    if settings.has_fault("cancel-from-processing"):  # FAULT cancel-from-processing
        statuses = (*statuses, "Processing")
    if settings.has_fault("cancel-from-cancelled"):  # FAULT cancel-from-cancelled
        statuses = (*statuses, "Cancelled")
    return statuses


def deletable_statuses(settings: ReferenceSettings) -> tuple[str, ...]:
    if settings.has_fault("delete-completed"):  # FAULT delete-completed
        return (*DELETABLE, "Completed")
    return DELETABLE


def step_delay(settings: ReferenceSettings) -> float:
    """Seconds between two lifecycle steps: the setting, or none for a server that is that fast
    (the answer of the request that started the steps then comes after them: see ``_app``)."""
    if settings.has_variant("fast-lifecycle"):  # VARIANT fast-lifecycle
        return 0.0
    return settings.delay


def timestamp(epoch: float) -> str:
    """The vendor's date-time style: ``2014-11-15 22:05:12`` (UTC, no offset)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def start_cancel(run: Run, now: float, hold: float | None, settings: ReferenceSettings) -> None:
    run.status_before_cancel = run.status
    run.status = "CancelInprogress"
    run.due_at = now + (hold if hold is not None else step_delay(settings))


def start_delete(run: Run, now: float, settings: ReferenceSettings) -> None:
    run.status = "DeleteInprogress"
    run.due_at = now + step_delay(settings)


def advance(store: Store, settings: ReferenceSettings, tenant: str | None = None) -> int:
    """Apply every due step (of one tenant, or all); returns how many steps were applied.

    Steps are timed from when they were due, not from when they ran, so a server that was stopped
    catches up in one call rather than stretching the lifecycle.
    """
    applied = 0
    while True:
        due = store.due_runs(time.time(), tenant)
        if not due:
            return applied
        for run_tenant, number in due:
            with store.transaction():
                run = store.get_run(run_tenant, number)
                if run is None or run.due_at is None or run.due_at > time.time():
                    continue  # another caller took this step first
                _step(store, settings, run, run.due_at)
                applied += 1


def _step(store: Store, settings: ReferenceSettings, run: Run, due_at: float) -> None:
    if run.status == "Pending":
        run.status = "Processing"
        run.executed_on = timestamp(due_at)
        hold = run.hold_processing
        run.due_at = due_at + (hold if hold is not None else step_delay(settings))
        store.save_run(run)
    elif run.status == "Processing":
        run.due_at = None
        if run.outcome == "Error":
            run.status = "Error"
        else:
            _write_entries(store, settings, run)
            run.status = "Completed"
        store.save_run(run)
    elif run.status == "CancelInprogress":
        _finish_cancel(store, settings, run)
    elif run.status == "DeleteInprogress":
        if settings.has_fault("deleted-run-readable"):  # FAULT deleted-run-readable
            run.status, run.due_at = "Deleted", None
            store.save_run(run)
        else:
            store.delete_run(run.tenant, run.number)
    else:  # at rest: nothing was due (defensive; due_at is cleared on every resting state)
        run.due_at = None
        store.save_run(run)


def _write_entries(store: Store, settings: ReferenceSettings, run: Run) -> None:
    period = _seed.period_named(run.period_name, settings.periods)
    assert period is not None
    docs = _seed.summary_entries(
        period=period,
        start=dt.date.fromisoformat(run.target_start_date),
        end=dt.date.fromisoformat(run.target_end_date),
        journal_entry_date=dt.date.fromisoformat(run.journal_entry_date),
        # Only documented types have activity (an undocumented one gets in only by a fault).
        transaction_types=[
            name for name in run.transaction_types if name in _seed.TRANSACTION_TYPES
        ],
    )
    for doc in docs:
        seq = store.next_number(run.tenant, "JE")
        store.save_entry(Entry(run.tenant, entry_number(seq, settings), run.number, doc), seq=seq)


def cancel_entries(store: Store, settings: ReferenceSettings, run: Run) -> int:
    """Cancel every entry of ``run`` that can be; returns how many refused (transferred)."""
    refused = 0
    for entry in store.entries_of_run(run.tenant, run.number):
        if entry.doc["status"] == "Cancelled":
            continue
        if settings.has_fault("entries-never-cancelled"):  # FAULT entries-never-cancelled
            continue
        blocked = entry.doc["transferredToAccounting"] in TRANSFER_BLOCKS_CANCEL
        # FAULT cancel-ignores-transfer
        if blocked and not settings.has_fault("cancel-ignores-transfer"):
            refused += 1
            if settings.has_fault("cancel-stops-at-refusal"):  # FAULT cancel-stops-at-refusal
                break
            continue
        entry.doc["status"] = "Cancelled"
        store.save_entry(entry)
    return refused


def _finish_cancel(store: Store, settings: ReferenceSettings, run: Run) -> None:
    """Cancel every entry that can be; the run is Cancelled only if none refused (JR-00000075)."""
    refused = cancel_entries(store, settings, run)
    # FAULT partial-cancel-becomes-cancelled
    if settings.has_fault("partial-cancel-becomes-cancelled"):
        refused = 0
    run.status = "Cancelled" if refused == 0 else (run.status_before_cancel or "Completed")
    run.status_before_cancel = None
    run.due_at = None
    store.save_run(run)


def run_number(seq: int, settings: ReferenceSettings) -> str:
    if settings.has_fault("run-numbers-unpadded"):  # FAULT run-numbers-unpadded
        return f"JR-{seq}"
    return f"JR-{seq:08d}"


def entry_number(seq: int, settings: ReferenceSettings) -> str:
    if settings.has_fault("entry-numbers-unpadded"):  # FAULT entry-numbers-unpadded
        return f"JE-{seq}"
    return f"JE-{seq:08d}"
