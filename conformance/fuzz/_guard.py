"""Keeping the fuzzer from cancelling, deleting or changing what this run did not create.

A fuzzer draws run and entry numbers, and the ones it likes best (the spec's example
``JR-00000075``, or ``JR-00000001``) are the ones most likely to exist on a real tenant. Cancelling
or deleting someone's journal run is not a test. So a generated request that would change a
well-formed number the fuzz stage did not create is sent only when a read first shows that
nothing by that number exists; otherwise schemathesis is told to draw another case.

The guard learns what the fuzzer creates as the answers come (schemathesis's ``after_call``
hook), and vets each case before it is sent (``filter_case``, and ``before_add_examples`` for the
examples phase, which does not filter); the hooks are registered on the one schema, never
globally.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Final

from .._exceptions import TransportError
from .._http import Request, Session
from .._redact import Redactor
from ._options import FuzzTarget

#: Path parameters that name a run or an entry, with the read that shows whether it exists.
_NUMBERS: Final = {
    "jr-number": (re.compile(r"^JR-\d{8}$"), "/v1/journal-runs/{}"),
    "je-number": (re.compile(r"^JE-\d{8}$"), "/v1/journal-entries/{}"),
}
#: Methods that read only.
_SAFE: Final = frozenset({"GET", "HEAD", "OPTIONS"})
#: An entry whose transferredToAccounting is anything but No cannot be cancelled, and moving it
#: back needs an override permission: on a real sandbox, an entry the suite could not remove.
_TRANSFER_FIELD: Final = "transferredToAccounting"
#: Answers that name the runs and entries the fuzzer creates or owns.
_CREATED_FIELDS: Final = ("journalRunNumber", "journalEntryNumber")


class Guard:
    """What the fuzz stage may change. Thread-safe: schemathesis calls hooks from its workers."""

    def __init__(
        self, target: FuzzTarget, redactor: Redactor, *, undoable_only: bool = False
    ) -> None:
        """``undoable_only``: also keep the fuzzer from what no cleanup can undo (on a tenant
        that is not the suite's own)."""
        self._target = target
        self._undoable_only = undoable_only
        self._redactor = redactor
        self._lock = threading.Lock()
        self._owned: set[str] = set()
        self._absent: dict[str, bool] = {}
        self._session: Session | None = None
        #: Reads sent to vet a number, and the numbers the guard kept the fuzzer away from.
        self.probes = 0
        self.refused: set[str] = set()

    def install(self, schema: Any) -> None:
        schema.hooks.register_hook_with_name(self.after_call, "after_call")
        schema.hooks.register_hook_with_name(self.filter_case, "filter_case")
        # The examples phase does not pass its cases through filter_case.
        schema.hooks.register_hook_with_name(self.before_add_examples, "before_add_examples")

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    # -- schemathesis hooks ------------------------------------------------------------------

    def after_call(self, context: Any, case: Any, response: Any) -> None:
        """Remember the runs and entries created, and the entries listed under owned runs."""
        if not 200 <= response.status_code < 300:
            return
        try:
            body = response.json()
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        with self._lock:
            for name in _CREATED_FIELDS:
                if case.method.upper() == "POST" and isinstance(body.get(name), str):
                    self._owned.add(body[name])
            run = (case.path_parameters or {}).get("jr-number")
            entries = body.get("journalEntries")
            if run in self._owned and isinstance(entries, list):
                self._owned.update(
                    entry["number"]
                    for entry in entries
                    if isinstance(entry, dict) and isinstance(entry.get("number"), str)
                )

    def before_add_examples(self, context: Any, examples: list[Any]) -> None:
        examples[:] = [case for case in examples if self.filter_case(context, case)]

    def filter_case(self, context: Any, case: Any) -> bool:
        """Whether ``case`` may be sent: it reads, or changes only what is ours or absent (and,
        with ``undoable_only``, nothing a cleanup could not undo)."""
        if str(case.method).upper() in _SAFE:
            return True
        if self._undoable_only and _transfers(case):
            return False
        for name, (pattern, read) in _NUMBERS.items():
            value = (case.path_parameters or {}).get(name)
            if (
                isinstance(value, str)
                and pattern.match(value)
                and not self._may_change(value, read)
            ):
                return False
        return True

    # -- deciding ----------------------------------------------------------------------------

    def _may_change(self, number: str, read: str) -> bool:
        with self._lock:
            if number in self._owned:
                return True
            known = self._absent.get(number)
            if known is None:
                known = self._absent[number] = self._is_absent(read.format(number))
            if not known:
                self.refused.add(number)
            return known

    def _is_absent(self, path: str) -> bool:
        """One read: absent only on a clear not-found; anything else keeps the number safe."""
        self.probes += 1
        try:
            response = self._session_for().do(
                Request("GET", path, headers=dict(self._target.headers)), track="fuzz.guard"
            )
        except TransportError:
            return False
        if response.status_code == 404:
            return True
        body = response.json_or_none()
        reasons = body.get("reasons") if isinstance(body, dict) else None
        return isinstance(reasons, list) and any(
            isinstance(reason, dict) and str(reason.get("code", "")).endswith("40")
            for reason in reasons
        )

    def _session_for(self) -> Session:
        if self._session is None:
            self._session = self._target.session(self._redactor)
        return self._session


def _transfers(case: Any) -> bool:
    """Whether ``case`` would mark a journal entry as (being) transferred to accounting."""
    path = str(getattr(case.operation, "path", ""))
    if not path.startswith("/v1/journal-entries"):
        return False
    body = case.body if isinstance(case.body, dict) else {}
    return _TRANSFER_FIELD in body and body[_TRANSFER_FIELD] != "No"
