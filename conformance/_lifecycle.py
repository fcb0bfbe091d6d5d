"""The journal-run lifecycle as the suite understands it: statuses and the moves between them.

Create puts a run in ``Pending``; a worker takes it to ``Processing`` and then ``Completed`` or
``Error``. Cancel is accepted from ``Pending``, ``Error`` or ``Completed`` and moves the run to
``CancelInprogress``; it ends ``Cancelled`` when every entry was cancelled, and otherwise goes back
to where it was (the cancel document's JR-00000075 example stays ``Completed``). Delete is accepted
only from ``Cancelled``; the run goes to ``DeleteInprogress`` and then is gone.

A client polls, so it can miss intermediate statuses: :func:`is_allowed` answers whether a status
can be *observed* after another one, i.e. whether it is reachable along the documented moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Final

PENDING: Final = "Pending"
PROCESSING: Final = "Processing"
COMPLETED: Final = "Completed"
ERROR: Final = "Error"
CANCEL_IN_PROGRESS: Final = "CancelInprogress"  # the vendor's spelling: lower-case "p"
CANCELLED: Final = "Cancelled"
DELETE_IN_PROGRESS: Final = "DeleteInprogress"

#: Every run status, in lifecycle order.
STATUSES: Final[tuple[str, ...]] = (
    PENDING,
    PROCESSING,
    COMPLETED,
    ERROR,
    CANCEL_IN_PROGRESS,
    CANCELLED,
    DELETE_IN_PROGRESS,
)

#: The direct moves a run can make. A run in ``DeleteInprogress`` can only disappear.
ALLOWED_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    PENDING: frozenset({PROCESSING, CANCEL_IN_PROGRESS}),
    PROCESSING: frozenset({COMPLETED, ERROR}),
    COMPLETED: frozenset({CANCEL_IN_PROGRESS}),
    ERROR: frozenset({CANCEL_IN_PROGRESS}),
    # A cancel that could not cancel every entry leaves the run where it was; only a run with
    # entries (Completed or Error) can be left that way, a Pending run has none.
    CANCEL_IN_PROGRESS: frozenset({CANCELLED, COMPLETED, ERROR}),
    CANCELLED: frozenset({DELETE_IN_PROGRESS}),
    DELETE_IN_PROGRESS: frozenset(),
}

#: The moves a run makes on its own. The others (into ``CancelInprogress`` and
#: ``DeleteInprogress``) happen only when a client's cancel or delete is accepted.
AUTOMATIC_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    status: targets - {CANCEL_IN_PROGRESS, DELETE_IN_PROGRESS}
    for status, targets in ALLOWED_TRANSITIONS.items()
}

#: Statuses from which a cancel must be accepted (and outside which it must be refused).
CANCELLABLE: Final = frozenset({PENDING, ERROR, COMPLETED})
#: Statuses from which a delete must be accepted (and outside which it must be refused).
DELETABLE: Final = frozenset({CANCELLED})
#: Statuses a run passes through on its own; a poller waits while a run is in one of them.
TRANSIENT: Final = frozenset({PENDING, PROCESSING, CANCEL_IN_PROGRESS, DELETE_IN_PROGRESS})
#: Statuses a run stays in until a client acts.
SETTLED: Final = frozenset(STATUSES) - TRANSIENT

#: A summary journal entry's statuses: it is created ``Created`` and a cancel makes it
#: ``Cancelled``; only a cancelled entry can be deleted (the same status a run is deleted from).
ENTRY_CREATED: Final = "Created"
ENTRY_CANCELLED: Final = CANCELLED
ENTRY_STATUSES: Final[tuple[str, ...]] = (ENTRY_CREATED, ENTRY_CANCELLED)


def is_status(value: object) -> bool:
    """Whether ``value`` is one of the seven documented run statuses (spelling included)."""
    return isinstance(value, str) and value in ALLOWED_TRANSITIONS


def is_allowed(prev: str, new: str) -> bool:
    """Whether ``new`` can be observed after ``prev``: the same status, or one reachable from it.

    Unknown statuses are never allowed.
    """
    if not (is_status(prev) and is_status(new)):
        return False
    return new == prev or new in _reachable(prev)


def settles_into(status: str) -> frozenset[str]:
    """Every status a run in ``status`` can be observed in later when no client touches it:
    ``status`` itself and what its automatic moves reach."""
    if not is_status(status):
        return frozenset()
    return frozenset({status}) | _reachable(status, automatic=True)


@cache
def _reachable(status: str, *, automatic: bool = False) -> frozenset[str]:
    moves = AUTOMATIC_TRANSITIONS if automatic else ALLOWED_TRANSITIONS
    seen: set[str] = set()
    frontier = list(moves[status])
    while frontier:
        current = frontier.pop()
        if current not in seen:
            seen.add(current)
            frontier.extend(moves[current])
    return frozenset(seen)
