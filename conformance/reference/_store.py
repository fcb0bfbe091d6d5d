"""Persistence: one SQLite database (a file, or memory) behind one lock.

Everything that must survive a restart lives here: runs with the due time of their next lifecycle
step, entries, OAuth tokens (hashed, never in clear), numbering counters and Idempotency-Key
answers. Each public method is one short transaction; ``transaction()`` groups several.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind));
CREATE TABLE IF NOT EXISTS runs (
    tenant TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    accounting_period_name TEXT,            -- as given; NULL for the target-dates option
    period_name TEXT NOT NULL,              -- the period the dates fall in
    journal_entry_date TEXT NOT NULL,
    target_start_date TEXT NOT NULL,
    target_end_date TEXT NOT NULL,
    transaction_types TEXT NOT NULL,        -- JSON array of type names
    organization_labels TEXT NOT NULL,      -- JSON array
    executed_on TEXT,
    outcome TEXT NOT NULL,                  -- Completed or Error (X-Reference-Outcome)
    hold_processing REAL,                   -- X-Reference-Hold seconds, or NULL
    status_before_cancel TEXT,
    due_at REAL,                            -- epoch seconds of the next step; NULL at rest
    PRIMARY KEY (tenant, number));
CREATE INDEX IF NOT EXISTS runs_due ON runs (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS entries (
    tenant TEXT NOT NULL,
    number TEXT NOT NULL,
    seq INTEGER NOT NULL,
    run_number TEXT,                        -- NULL for a manual entry
    doc TEXT NOT NULL,                      -- JSON: the entry as the API shows it, minus number
    PRIMARY KEY (tenant, number));
CREATE INDEX IF NOT EXISTS entries_by_run ON entries (tenant, run_number, seq);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    tenant TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    created_at REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    status INTEGER, headers TEXT, body BLOB);
"""


@dataclass
class Run:
    tenant: str
    number: str
    status: str
    accounting_period_name: str | None
    period_name: str
    journal_entry_date: str
    target_start_date: str
    target_end_date: str
    transaction_types: list[str]
    organization_labels: list[Any]
    executed_on: str | None
    outcome: str
    hold_processing: float | None
    status_before_cancel: str | None
    due_at: float | None


@dataclass
class Entry:
    tenant: str
    number: str
    run_number: str | None
    doc: dict[str, Any]


@dataclass(frozen=True)
class StoredAnswer:
    """One Idempotency-Key record; ``status`` is None while the first request is in progress."""

    tenant: str
    method: str
    path: str
    created_at: float
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes


_RUN_COLUMNS = (
    "tenant, number, status, accounting_period_name, period_name, journal_entry_date, "
    "target_start_date, target_end_date, transaction_types, organization_labels, executed_on, "
    "outcome, hold_processing, status_before_cancel, due_at"
)


def _run_from_row(row: sqlite3.Row) -> Run:
    values = dict(row)
    values["transaction_types"] = json.loads(values["transaction_types"])
    values["organization_labels"] = json.loads(values["organization_labels"])
    return Run(**values)


def _run_to_row(run: Run) -> tuple[Any, ...]:
    return (
        run.tenant,
        run.number,
        run.status,
        run.accounting_period_name,
        run.period_name,
        run.journal_entry_date,
        run.target_start_date,
        run.target_end_date,
        json.dumps(run.transaction_types),
        json.dumps(run.organization_labels),
        run.executed_on,
        run.outcome,
        run.hold_processing,
        run.status_before_cancel,
        run.due_at,
    )


class Store:
    def __init__(self, path: str | None) -> None:
        # One connection shared by the server's threads; the lock serialises every use of it.
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._db = sqlite3.connect(
                path or ":memory:", check_same_thread=False, isolation_level=None, timeout=10
            )
            self._db.row_factory = sqlite3.Row
            self._db.executescript(_SCHEMA)
            # An answer can only be in progress while its server runs: after a restart it never
            # will finish, so forget it rather than answer 409 for 24 hours.
            self._db.execute("DELETE FROM idempotency WHERE done = 0")
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot use {path} as the reference's database: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all (nesting joins the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _run(self, sql: str, *args: Any) -> int:
        with self.transaction():
            return self._db.execute(sql, args).rowcount

    # --- numbering -------------------------------------------------------------------------------

    def next_number(self, tenant: str, kind: str) -> int:
        """1, 2, 3... per tenant and kind; never reused, even after a delete."""
        with self.transaction():
            row = self._one(
                "INSERT INTO counters VALUES (?, ?, 1) ON CONFLICT (tenant, kind) "
                "DO UPDATE SET value = value + 1 RETURNING value",
                tenant,
                kind,
            )
            assert row is not None
            return int(row[0])

    # --- runs ------------------------------------------------------------------------------------

    def save_run(self, run: Run) -> None:
        placeholders = ", ".join("?" * 15)
        self._run(
            f"INSERT OR REPLACE INTO runs ({_RUN_COLUMNS}) VALUES ({placeholders})",
            *_run_to_row(run),
        )

    def get_run(self, tenant: str, number: str) -> Run | None:
        row = self._one(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE tenant = ? AND number = ?", tenant, number
        )
        return _run_from_row(row) if row else None

    def delete_run(self, tenant: str, number: str) -> None:
        with self.transaction():
            self._run("DELETE FROM entries WHERE tenant = ? AND run_number = ?", tenant, number)
            self._run("DELETE FROM runs WHERE tenant = ? AND number = ?", tenant, number)

    def count_runs(self, tenant: str, statuses: tuple[str, ...]) -> int:
        marks = ", ".join("?" * len(statuses))
        row = self._one(
            f"SELECT COUNT(*) FROM runs WHERE tenant = ? AND status IN ({marks})", tenant, *statuses
        )
        return int(row[0]) if row else 0

    def due_runs(self, now: float, tenant: str | None = None) -> list[tuple[str, str]]:
        """(tenant, number) of the runs whose next step is due, oldest first."""
        if tenant is None:
            rows = self._all(
                "SELECT tenant, number FROM runs WHERE due_at <= ? ORDER BY due_at", now
            )
        else:
            rows = self._all(
                "SELECT tenant, number FROM runs WHERE due_at <= ? AND tenant = ? ORDER BY due_at",
                now,
                tenant,
            )
        return [(row[0], row[1]) for row in rows]

    # --- entries ---------------------------------------------------------------------------------

    def save_entry(self, entry: Entry, seq: int | None = None) -> None:
        doc = json.dumps(entry.doc)
        with self.transaction():
            if seq is None:
                updated = self._run(
                    "UPDATE entries SET doc = ? WHERE tenant = ? AND number = ?",
                    doc,
                    entry.tenant,
                    entry.number,
                )
                assert updated == 1, "save_entry without seq only updates"
            else:
                self._run(
                    "INSERT INTO entries VALUES (?, ?, ?, ?, ?)",
                    entry.tenant,
                    entry.number,
                    seq,
                    entry.run_number,
                    doc,
                )

    def get_entry(self, tenant: str, number: str) -> Entry | None:
        row = self._one(
            "SELECT run_number, doc FROM entries WHERE tenant = ? AND number = ?", tenant, number
        )
        return Entry(tenant, number, row[0], json.loads(row[1])) if row else None

    def delete_entry(self, tenant: str, number: str) -> None:
        self._run("DELETE FROM entries WHERE tenant = ? AND number = ?", tenant, number)

    def entries_of_run(
        self, tenant: str, run_number: str, *, offset: int = 0, limit: int = -1
    ) -> list[Entry]:
        rows = self._all(
            "SELECT number, doc FROM entries WHERE tenant = ? AND run_number = ? "
            "ORDER BY seq LIMIT ? OFFSET ?",
            tenant,
            run_number,
            limit,
            offset,
        )
        return [Entry(tenant, row[0], run_number, json.loads(row[1])) for row in rows]

    def count_entries(self, tenant: str, run_number: str) -> int:
        row = self._one(
            "SELECT COUNT(*) FROM entries WHERE tenant = ? AND run_number = ?", tenant, run_number
        )
        return int(row[0]) if row else 0

    # --- tokens ----------------------------------------------------------------------------------

    def save_token(self, token_hash: str, tenant: str, expires_at: float) -> None:
        self._run("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", token_hash, tenant, expires_at)

    def token(self, token_hash: str) -> tuple[str, float] | None:
        row = self._one("SELECT tenant, expires_at FROM tokens WHERE token_hash = ?", token_hash)
        return (row[0], float(row[1])) if row else None

    # --- idempotency -----------------------------------------------------------------------------

    def answer(self, key: str) -> StoredAnswer | None:
        row = self._one(
            "SELECT tenant, method, path, created_at, done, status, headers, body "
            "FROM idempotency WHERE key = ?",
            key,
        )
        if row is None:
            return None
        return StoredAnswer(
            tenant=row["tenant"],
            method=row["method"],
            path=row["path"],
            created_at=float(row["created_at"]),
            status=int(row["status"]) if row["done"] else None,
            headers=[tuple(pair) for pair in json.loads(row["headers"] or "[]")],
            body=bytes(row["body"] or b""),
        )

    def begin_answer(self, key: str, tenant: str, method: str, path: str, now: float) -> None:
        self._run(
            "INSERT OR REPLACE INTO idempotency (key, tenant, method, path, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            key,
            tenant,
            method,
            path,
            now,
        )

    def finish_answer(
        self, key: str, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        self._run(
            "UPDATE idempotency SET done = 1, status = ?, headers = ?, body = ? WHERE key = ?",
            status,
            json.dumps(headers),
            body,
            key,
        )

    def forget_answer(self, key: str) -> None:
        self._run("DELETE FROM idempotency WHERE key = ?", key)

    def forget_answers_before(self, cutoff: float) -> None:
        self._run("DELETE FROM idempotency WHERE created_at < ?", cutoff)
