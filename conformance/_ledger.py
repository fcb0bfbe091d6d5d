"""The ledger: every journal run and entry the suite created, on disk the moment it exists.

The suite touches only what it created. Every session of a run reports to the ledger
(:meth:`Ledger.watch`): a create that answers a ``journalRunNumber`` or ``journalEntryNumber`` is
written to ``<reports>/ledger.jsonl`` at once (one JSON object a line, flushed and fsynced), so a
crash, a Ctrl-C or a killed CI job still leaves the list that ``jr-conformance cleanup --ledger``
finishes the job from. Cleaning appends a line with the new state; the last line for an item wins.

The same sessions are guarded (:meth:`Ledger.guard`): against an external target a request that
would change a run or an entry (cancel, delete, update, or any other method on its URL) is sent
only if the ledger holds that number, or a read shows it does not exist (the not-found checks ask
about ``JR-99999999``). Anything else is refused with :class:`UnsafeRequest` and never sent. Entries
listed by a run the suite created belong to that run: the ledger adopts them (in memory; cleaning
the run covers them).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from . import _envelope as envelope
from ._exceptions import ConformanceError, SetupError, TransportError, UsageError
from ._http import Auth, BearerToken, ClientCredentials, Request, Response, Session
from ._paths import CREATES, ENTRY, RUN, read_path, resource

__all__ = [
    "ENTRY",
    "RUN",
    "Item",
    "Ledger",
    "UnsafeRequest",
    "is_absent",
    "is_absent_answer",
    "load_ledger",
    "tenant_key",
]

#: ``created``: may still exist. ``cleaned``: gone. ``left-behind``: cleanup gave up (it is tried
#: again by the next cleanup). ``lost``: a create got no readable answer, so its number is unknown.
State = Literal["created", "cleaned", "left-behind", "lost"]
LEDGER_FILE = "ledger.jsonl"
#: Methods that change nothing.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNKNOWN_NUMBER = "(unknown)"


class UnsafeRequest(ConformanceError):
    """A request the suite refused to send: it would change something this run did not create,
    or write during a read-only run."""


@dataclass(frozen=True)
class Item:
    """One line of the ledger: a run or entry and what became of it."""

    run_id: str
    base_url: str
    tenant: str
    kind: str
    number: str
    created_at: str
    state: str = "created"
    #: The last status seen when cleanup gave up (or ``unknown``).
    status: str = ""
    reason: str = ""
    #: ``reference``: made on the embedded reference server, gone when the run ended.
    implementation: str = "external"
    #: Order of creation within this process (not written; the file's order is the order).
    seq: int = field(default=0, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.base_url, self.tenant, self.kind, self.number)

    @property
    def open(self) -> bool:
        """Whether it may still exist: created, or left behind by an earlier cleanup."""
        return self.state in ("created", "left-behind")

    def line(self) -> str:
        data = asdict(self)
        del data["seq"]
        return json.dumps(data, sort_keys=True)


def tenant_key(auth: Auth | None) -> str:
    """Names the tenant credentials belong to, without the secret: the client id, or a short
    fingerprint of the token (enough to tell two tokens apart, useless to anyone else)."""
    if isinstance(auth, ClientCredentials):
        return f"client {auth.client_id}"
    if isinstance(auth, BearerToken):
        return f"token sha256:{hashlib.sha256(auth.token.encode()).hexdigest()[:12]}"
    return "no credentials"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Ledger:
    """What one run created; thread-safe. ``path`` ``None`` keeps it in memory only."""

    def __init__(
        self,
        path: Path | None,
        *,
        run_id: str,
        base_url: str,
        implementation: str = "external",
    ) -> None:
        self.path = path
        self.run_id = run_id
        self.base_url = base_url
        self.implementation = implementation
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str, str, str], Item] = {}
        self._lost: list[Item] = []
        #: (tenant, entry number) -> the run it belongs to.
        self._adopted: dict[tuple[str, str], str] = {}
        self._seq = 0
        #: Items of earlier runs in the same file that may still exist on an external target.
        self.earlier: list[Item] = []
        if path is not None:
            if path.is_file():
                items, _ = load_ledger(path)
                self.earlier = [i for i in items if i.open and i.implementation != "reference"]
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            except OSError as exc:
                raise UsageError(f"cannot write the ledger {path}: {exc.strerror or exc}") from None

    # -- recording -----------------------------------------------------------------------------

    def record(self, tenant: str, kind: str, number: str) -> Item:
        """Note that ``tenant`` now has ``number`` because of this run (once per number)."""
        with self._lock:
            key = (self.base_url, tenant, kind, number)
            existing = self._items.get(key)
            if existing is not None and existing.open:
                return existing  # an idempotent replay answers the same number
            item = self._new_item(tenant, kind, number)
            self._items[key] = item
            self._append(item)
            return item

    def gone(self, tenant: str, kind: str, number: str) -> None:
        """Note that ``number``, which this run created, is gone (a read answered not-found
        after the run deleted it): nothing is left for the cleanup to do."""
        with self._lock:
            existing = self._items.get((self.base_url, tenant, kind, number))
        if existing is not None and existing.open:
            self.settle(existing, "cleaned", "not found")

    def record_lost(self, tenant: str, kind: str, reason: str) -> Item:
        """A create whose answer never came (or had no number): something may exist, unnamed."""
        with self._lock:
            item = self._new_item(
                tenant, kind, UNKNOWN_NUMBER, state="lost", status="unknown", reason=reason
            )
            self._lost.append(item)
            self._append(item)
            return item

    def _new_item(self, tenant: str, kind: str, number: str, **outcome: str) -> Item:
        """A new line for this run and target, numbered in creation order (lock held)."""
        self._seq += 1
        return Item(
            run_id=self.run_id,
            base_url=self.base_url,
            tenant=tenant,
            kind=kind,
            number=number,
            created_at=_now(),
            implementation=self.implementation,
            seq=self._seq,
            **outcome,
        )

    def settle(self, item: Item, state: str, status: str = "", reason: str = "") -> Item:
        """Record what cleanup made of ``item``."""
        with self._lock:
            current = self._items.get(item.key, item)
            updated = replace(current, state=state, status=status, reason=reason)
            self._items[item.key] = updated
            self._append(updated)
            return updated

    def adopt(self, tenant: str, run: str, entries: Iterable[str]) -> None:
        with self._lock:
            for entry in entries:
                self._adopted[(tenant, entry)] = run

    def _append(self, item: Item) -> None:
        if self.path is None:
            return
        try:
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(item.line() + "\n")
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            # What is not on disk could not be cleaned after a crash: stop creating things.
            raise SetupError(
                f"cannot write the ledger {self.path}: {exc.strerror or exc}"
            ) from None

    # -- reading -------------------------------------------------------------------------------

    def items(self) -> list[Item]:
        with self._lock:
            return sorted(self._items.values(), key=lambda item: item.seq)

    def lost(self) -> list[Item]:
        with self._lock:
            return list(self._lost)

    def created(self, kind: str, tenant: str | None = None) -> int:
        """How many items of ``kind`` this run created (lost creates included), on ``tenant``
        or on any: what the run cost the tenant."""
        with self._lock:
            items = [*self._items.values(), *self._lost]
        return sum(item.kind == kind and tenant in (None, item.tenant) for item in items)

    def open_items(self, tenant: str | None = None, after: int = 0) -> list[Item]:
        """Items that may still exist, in order of creation; of ``tenant``, created after
        sequence number ``after`` (see :meth:`mark`)."""
        return [
            item
            for item in self.items()
            if item.open and item.seq > after and (tenant is None or item.tenant == tenant)
        ]

    def mark(self) -> int:
        """The sequence number of the latest item: what :meth:`open_items` counts from."""
        with self._lock:
            return self._seq

    def owns(self, tenant: str, kind: str, number: str) -> bool:
        """Whether this run created ``number`` on ``tenant`` (or it is an entry of such a run)."""
        with self._lock:
            if (self.base_url, tenant, kind, number) in self._items:
                return True
            return kind == ENTRY and (tenant, number) in self._adopted

    # -- the hooks every session of the run gets --------------------------------------------------

    def watch(self, session: Session, tenant: str) -> None:
        """Record what ``session``'s requests create."""

        def observe(request: Request, response: Response | None) -> None:
            self._observe(session, tenant, request, response)

        session.observers.append(observe)

    def guard(self, session: Session, tenant: str, *, read_only: bool, foreign: bool) -> None:
        """Refuse, on ``session``, every write when ``read_only``, and when ``foreign``, every
        change to a run or entry this run did not create (unless a read shows it is absent)."""

        def check(request: Request) -> None:
            self._guard(session, tenant, request, read_only=read_only, foreign=foreign)

        session.guards.append(check)

    def _observe(
        self, session: Session, tenant: str, request: Request, response: Response | None
    ) -> None:
        method = request.method.upper()
        path = api_path(session, request.path)
        if response is None:
            self.note(tenant, method, path, None, None)
        else:
            self.note(tenant, method, path, response.status_code, response.json_or_none())

    def note(self, tenant: str, method: str, path: str, status: int | None, body: Any) -> None:
        """Record what one exchange created (``status`` ``None``: no answer came). For clients
        other than the :class:`Session` too: the fuzzer reports its exchanges here."""
        if method == "POST" and path in CREATES:
            kind, field_name = CREATES[path]
            if status is None:
                self.record_lost(
                    tenant, kind, f"POST {path} got no answer: something may have been created"
                )
                return
            number = body.get(field_name) if isinstance(body, dict) else None
            if isinstance(number, str) and number:
                self.record(tenant, kind, number)
            elif envelope.is_accepted(status, body):
                self.record_lost(
                    tenant,
                    kind,
                    f"POST {path} answered HTTP {status} without a {field_name}: something "
                    "may have been created",
                )
            return
        if method == "GET" and status is not None:
            named = resource(path)
            if named and named[0] == "entries-of-run" and self.owns(tenant, RUN, named[1]):
                entries = body.get("journalEntries") if isinstance(body, dict) else None
                if isinstance(entries, list):
                    numbers = [e.get("number") for e in entries if isinstance(e, dict)]
                    self.adopt(tenant, named[1], [n for n in numbers if isinstance(n, str)])

    def _guard(
        self, session: Session, tenant: str, request: Request, *, read_only: bool, foreign: bool
    ) -> None:
        method = request.method.upper()
        if method in SAFE_METHODS:
            return
        path = api_path(session, request.path)
        if read_only:
            raise UnsafeRequest(f"not sent: {method} {path}: this run is read-only")
        named = resource(path) if foreign else None
        if named is None:
            return
        kind = ENTRY if named[0] == "entry" else RUN
        self.check_change(session, tenant, kind, named[1], f"{method} {path}")

    def may_change(self, tenant: str, kind: str, number: str, absent: Callable[[], bool]) -> bool:
        """The one ownership rule: ``number`` may be cancelled, deleted or changed only when this
        run created it on ``tenant`` (or it is an entry of such a run), or when ``absent()`` (a
        read, judged by :func:`is_absent_answer`) shows nothing by that number exists. The fuzz
        stage's guard asks it too."""
        return self.owns(tenant, kind, number) or absent()

    def check_change(
        self, session: Session, tenant: str, kind: str, number: str, what: str
    ) -> None:
        """Raise :class:`UnsafeRequest` unless ``what`` may change ``number``: this run created
        it (or it is an entry of such a run), or a read through ``session`` shows it does not
        exist."""
        failure: list[TransportError] = []

        def absent() -> bool:
            try:
                answer = session.do(Request("GET", read_path(kind, number)), track="guard")
            except TransportError as exc:
                failure.append(exc)
                return False
            return is_absent(answer)

        if self.may_change(tenant, kind, number, absent):
            return  # ours, or nothing by that number exists: nothing to harm
        if failure:
            raise UnsafeRequest(
                f"not sent: {what}: {number} was not created by this run, and reading it "
                f"failed ({failure[0]}); the suite never changes what it did not create"
            )
        raise UnsafeRequest(
            f"not sent: {what} would change {kind} {number}, which exists and was not "
            "created by this run (the suite never cancels, deletes or changes what it did not "
            "create)"
        )


# -- paths and answers ---------------------------------------------------------------------------


def api_path(session: Session, path: str) -> str:
    """``path`` (relative, or an absolute URL on the target) relative to the base URL, without
    query; ``/v1/journal-runs``."""
    base_path = urlsplit(session.settings.base_url).path.rstrip("/")
    full = urlsplit(session.url(path)).path
    if base_path and full.startswith(base_path + "/"):
        full = full[len(base_path) :]
    return "/" + full.strip("/")


#: Categories of a refusal that say nothing of whether the thing exists: permission,
#: authentication, locking, the rate limit, and the server's own failures.
_INCONCLUSIVE = frozenset({10, 11, 50, 60, 61, 70, 99})
#: Categories that say nothing by that number exists: not found, or an invalid number.
_ABSENT = frozenset({envelope.NOT_FOUND, 20})


def is_absent_answer(status: int, body: Any) -> bool:
    """Whether an answer to a read says the thing is not there: a refusal, in either error style,
    that is a 404 or has a reason of category 40 (not found) or 20 (an invalid number). 5xx,
    401, 403 and 429, and a refusal of a category that says nothing of existence (permission,
    locking, ...), prove nothing."""
    if status >= 500 or status in (401, 403, 429) or not envelope.is_refused(status, body):
        return False
    categories = set(envelope.categories(body))
    if categories & _INCONCLUSIVE:
        return False
    return status == 404 or bool(categories & _ABSENT)


def is_absent(response: Response) -> bool:
    """:func:`is_absent_answer` of a :class:`Response`."""
    return is_absent_answer(response.status_code, response.json_or_none())


# -- reading a ledger file back ----------------------------------------------------------------


def load_ledger(path: Path) -> tuple[list[Item], list[Item]]:
    """The items of a ledger file, last state of each, in order of creation; and the lost
    creates. A missing or malformed file is a :class:`UsageError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"ledger {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"ledger {path}: cannot read it: {exc}") from None
    items: dict[tuple[str, str, str, str], Item] = {}
    lost: list[Item] = []
    names = {f.name for f in Item.__dataclass_fields__.values()} - {"seq"}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            item = Item(**{k: str(v) for k, v in data.items() if k in names}, seq=number)
            for required in ("base_url", "tenant", "kind", "number"):
                if not getattr(item, required):
                    raise ValueError(f"no {required}")
        except (ValueError, TypeError) as exc:
            if number == len(text.splitlines()) and not text.endswith("\n"):
                continue  # a last line cut short by a crash: nothing was confirmed created yet
            raise UsageError(f"ledger {path}, line {number}: not a ledger line ({exc})") from None
        if item.state == "lost":
            lost.append(item)
            continue
        first = items.get(item.key)
        items[item.key] = item if first is None else replace(item, seq=first.seq)
    ordered = sorted(items.values(), key=lambda item: item.seq)
    return ordered, lost
