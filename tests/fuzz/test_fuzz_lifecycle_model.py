"""conformance._lifecycle: the suite's model of run statuses and the moves between them."""

from __future__ import annotations

import pytest

from conformance import _lifecycle as lifecycle


def test_the_seven_statuses_with_the_vendor_spelling() -> None:
    assert lifecycle.STATUSES == (
        "Pending",
        "Processing",
        "Completed",
        "Error",
        "CancelInprogress",
        "Cancelled",
        "DeleteInprogress",
    )
    assert set(lifecycle.ALLOWED_TRANSITIONS) == set(lifecycle.STATUSES)
    assert not lifecycle.is_status("CancelInProgress")  # capital P is not the vendor's
    assert not lifecycle.is_status("Canceled")


def test_cancellable_and_deletable() -> None:
    assert frozenset({"Pending", "Error", "Completed"}) == lifecycle.CANCELLABLE
    assert frozenset({"Cancelled"}) == lifecycle.DELETABLE
    for status in lifecycle.CANCELLABLE:
        assert "CancelInprogress" in lifecycle.ALLOWED_TRANSITIONS[status]
    assert lifecycle.ALLOWED_TRANSITIONS["Cancelled"] == {"DeleteInprogress"}


@pytest.mark.parametrize(
    ("prev", "new"),
    [
        ("Pending", "Pending"),
        ("Pending", "Processing"),
        ("Pending", "Completed"),  # Processing was not seen: polling misses steps
        ("Processing", "Error"),
        ("Completed", "CancelInprogress"),
        ("CancelInprogress", "Completed"),  # an entry refused (the JR-00000075 example)
        ("CancelInprogress", "Cancelled"),
        ("Error", "DeleteInprogress"),  # via cancel and Cancelled
    ],
)
def test_allowed(prev: str, new: str) -> None:
    assert lifecycle.is_allowed(prev, new)


@pytest.mark.parametrize(
    ("prev", "new"),
    [
        ("Completed", "Pending"),
        ("Completed", "Processing"),
        ("Processing", "Pending"),
        ("Cancelled", "Completed"),
        ("DeleteInprogress", "Cancelled"),
        ("Pending", "Canceled"),
        ("Bogus", "Pending"),
    ],
)
def test_not_allowed(prev: str, new: str) -> None:
    assert not lifecycle.is_allowed(prev, new)


def test_automatic_moves_never_start_a_cancel_or_delete() -> None:
    assert lifecycle.settles_into("Pending") == {"Pending", "Processing", "Completed", "Error"}
    assert lifecycle.settles_into("Completed") == {"Completed"}
    assert lifecycle.settles_into("CancelInprogress") == {
        "CancelInprogress",
        "Cancelled",
        "Completed",
        "Error",
    }
    assert lifecycle.settles_into("Cancelled") == {"Cancelled"}
    assert lifecycle.settles_into("nonsense") == frozenset()
