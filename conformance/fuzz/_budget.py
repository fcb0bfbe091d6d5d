"""How many journal runs the fuzz stage may create on a tenant that is not the suite's own.

Only one journal run executes at a time per tenant. On a real sandbox a run takes seconds to
minutes, so once the fuzzer has one executing, every further valid create is refused ("another
run is executing") and teaches nothing new, while each costs a request of the tenant's budget and
a slot of the lifecycle. A few runs are enough for the stateful phase to follow a run through
its lifecycle; past that, the passes after the stateful one send no valid create
(``filter_case``). Invalid creates (negative cases) are still sent: they must be refused, and
they create nothing. The stateful pass is only counted (``install(withhold=False)``): withheld
creates make Hypothesis reject its scenarios one after another, which costs far more time than
the few runs it creates, one at a time, on an idle tenant.

A valid create counts from the moment it is let through until its answer says it was refused,
so concurrent workers cannot overshoot the budget. An invalid create the target accepts (a
finding of ``negative_data_rejection``) made a run too, and counts from its answer.
"""

from __future__ import annotations

import threading
from typing import Any

from .._envelope import is_accepted
from .._paths import CREATE_RUN


class CreateBudget:
    """Lets at most ``limit`` valid creates of a journal run be accepted; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._pending = 0
        #: Creates the target accepted.
        self.created = 0
        #: Valid creates not sent, the budget being spent.
        self.withheld = 0

    @property
    def spent(self) -> bool:
        with self._lock:
            return self.created >= self.limit

    def install(self, schema: Any, *, withhold: bool = True) -> None:
        """Count the creates of ``schema``'s run; ``withhold``: and send no valid one past the
        budget."""
        if withhold:
            schema.hooks.register_hook_with_name(self.filter_case, "filter_case")
            schema.hooks.register_hook_with_name(self.before_add_examples, "before_add_examples")
        schema.hooks.register_hook_with_name(self.after_call, "after_call")
        schema.hooks.register_hook_with_name(self.after_network_error, "after_network_error")

    # -- schemathesis hooks ------------------------------------------------------------------

    def before_add_examples(self, context: Any, examples: list[Any]) -> None:
        examples[:] = [case for case in examples if self.filter_case(context, case)]

    def filter_case(self, context: Any, case: Any) -> bool:
        if not _valid_create(case):
            return True
        with self._lock:
            if self.created + self._pending >= self.limit:
                self.withheld += 1
                return False
            self._pending += 1
            return True

    def after_call(self, context: Any, case: Any, response: Any) -> None:
        valid = _valid_create(case)
        if not valid and not _create(case):
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        with self._lock:
            if valid:
                self._pending = max(0, self._pending - 1)
            # An invalid create the server accepted (a finding) made a run too: it counts.
            if is_accepted(int(response.status_code), body):
                self.created += 1

    def after_network_error(self, context: Any, case: Any, request: Any) -> None:
        if _valid_create(case):
            with self._lock:  # it may have been created: count it
                self._pending = max(0, self._pending - 1)
                self.created += 1


def _create(case: Any) -> bool:
    """A case of the create operation, sent to its own method."""
    operation = getattr(case, "operation", None)
    if operation is None or operation.definition.raw.get("operationId") != CREATE_RUN:
        return False
    return str(case.method).upper() == str(operation.method).upper()


def _valid_create(case: Any) -> bool:
    """A positive (schema-valid) case of the create operation."""
    if not _create(case):
        return False
    meta = getattr(case, "meta", None)
    return meta is None or not meta.generation.mode.is_negative
