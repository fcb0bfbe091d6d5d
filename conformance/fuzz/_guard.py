"""Keeping the fuzzer from cancelling, deleting or changing what this run did not create.

A fuzzer draws run and entry numbers, and the ones it likes best (the spec's example
``JR-00000075``, or ``JR-00000001``) are the ones most likely to exist on a real tenant. Cancelling
or deleting someone's journal run is not a test. So a generated request that would change a
well-formed number the fuzz stage did not create is sent only when a read first shows that
nothing by that number exists; otherwise schemathesis is told to draw another case.

The guard is a thin adapter over the ledger's ownership rule
(:meth:`~conformance._ledger.Ledger.may_change`): it keeps an in-memory ledger of what the fuzzer
creates as the answers come (schemathesis's ``after_call`` hook), and vets each case before it is
sent (``filter_case``, and ``before_add_examples`` for the examples phase, which does not
filter); the hooks are registered on the one schema, never globally.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from .. import _paths as paths
from .._exceptions import TransportError
from .._http import Request, Session
from .._ledger import SAFE_METHODS, Ledger, is_absent
from .._redact import Redactor
from ._options import FuzzTarget

#: The fuzzer's one tenant, as its in-memory ledger names it.
_TENANT: Final = "fuzz"
#: An entry whose transferredToAccounting is anything but No cannot be cancelled, and moving it
#: back needs an override permission: on a real sandbox, an entry the suite could not remove.
_TRANSFER_FIELD: Final = "transferredToAccounting"


class Guard:
    """What the fuzz stage may change. Thread-safe: schemathesis calls hooks from its workers."""

    def __init__(
        self,
        target: FuzzTarget,
        redactor: Redactor,
        *,
        undoable_only: bool = False,
        session: Session | None = None,
    ) -> None:
        """``undoable_only``: also keep the fuzzer from what no cleanup can undo (on a tenant
        that is not the suite's own). ``session``: the stage's (else the guard opens its own)."""
        self._target = target
        self._undoable_only = undoable_only
        self._redactor = redactor
        self._lock = threading.Lock()
        #: What the fuzzer created: the ledger's ownership rule decides what it may change.
        self._ledger = Ledger(None, run_id="fuzz", base_url=target.base_url)
        self._absent: dict[str, bool] = {}
        self._session = session
        self._owns_session = session is None
        #: Others create on the tenant meanwhile (the scenarios run alongside): a number read
        #: absent may be theirs a moment later, so an absence is read again before each change.
        self.others_creating = False
        #: Reads sent to vet a number, and the numbers the guard kept the fuzzer away from.
        self.probes = 0
        self.refused: set[str] = set()

    def install(self, schema: Any) -> None:
        schema.hooks.register_hook_with_name(self.after_call, "after_call")
        schema.hooks.register_hook_with_name(self.filter_case, "filter_case")
        # The examples phase does not pass its cases through filter_case.
        schema.hooks.register_hook_with_name(self.before_add_examples, "before_add_examples")

    def close(self) -> None:
        if self._session is not None and self._owns_session:
            self._session.close()

    # -- schemathesis hooks ------------------------------------------------------------------

    def after_call(self, context: Any, case: Any, response: Any) -> None:
        """Remember the runs and entries created, and the entries listed under owned runs."""
        try:
            body = response.json()
        except ValueError:
            body = None
        method = str(case.method).upper()
        self._ledger.note(_TENANT, method, str(case.formatted_path), response.status_code, body)

    def before_add_examples(self, context: Any, examples: list[Any]) -> None:
        examples[:] = [case for case in examples if self.filter_case(context, case)]

    def filter_case(self, context: Any, case: Any) -> bool:
        """Whether ``case`` may be sent: it reads, or changes only what is ours or absent (and,
        with ``undoable_only``, nothing a cleanup could not undo)."""
        if str(case.method).upper() in SAFE_METHODS:
            return True
        if self._undoable_only and _transfers(case):
            return False
        for name, kind in paths.PARAMETER_KIND.items():
            value = (case.path_parameters or {}).get(name)
            if (
                isinstance(value, str)
                and paths.NUMBER_FORMAT[kind].match(value)
                and not self._may_change(kind, value)
            ):
                return False
        return True

    # -- deciding ----------------------------------------------------------------------------

    def _may_change(self, kind: str, number: str) -> bool:
        with self._lock:
            allowed = self._ledger.may_change(
                _TENANT, kind, number, lambda: self._is_absent(kind, number)
            )
            if not allowed:
                self.refused.add(number)
            return allowed

    def _is_absent(self, kind: str, number: str) -> bool:
        """One read per number (remembered, unless others are creating): absent only when the
        ledger's rule says the answer shows nothing by that number exists; anything else keeps
        the number safe."""
        known = None if self.others_creating else self._absent.get(number)
        if known is not None:
            return known
        self.probes += 1
        try:
            response = self._session_for().do(
                Request("GET", paths.read_path(kind, number), headers=dict(self._target.headers)),
                track="fuzz.guard",
            )
        except TransportError:
            known = False
        else:
            known = is_absent(response)
        self._absent[number] = known
        return known

    def _session_for(self) -> Session:
        if self._session is None:
            self._session = self._target.session(self._redactor)
        return self._session


def _transfers(case: Any) -> bool:
    """Whether ``case`` would mark a journal entry as (being) transferred to accounting."""
    if not paths.is_entry_path(str(getattr(case.operation, "path", ""))):
        return False
    body = case.body if isinstance(case.body, dict) else {}
    return _TRANSFER_FIELD in body and body[_TRANSFER_FIELD] != "No"
