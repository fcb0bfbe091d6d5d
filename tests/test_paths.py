"""The API's paths and numbers (conformance._paths) are the spec's, and the one ownership rule."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import _paths as paths
from conformance._catalogue import load_catalogue
from conformance._ledger import Ledger, is_absent_answer


def test_the_operations_are_the_specs() -> None:
    catalogue = load_catalogue()
    assert {op.operation_id: (op.method, op.path) for op in catalogue.operations.values()} == dict(
        paths.OPERATIONS
    )


def test_paths_are_filled_in_and_read_back() -> None:
    assert paths.path(paths.CANCEL_RUN, "JR-00000001") == "/v1/journal-runs/JR-00000001/cancel"
    assert paths.path(paths.LIST_ENTRIES, "JR-1") == "/v1/journal-entries/journal-runs/JR-1"
    assert paths.path(paths.GET_RUN, "a/b") == "/v1/journal-runs/a%2Fb"
    assert paths.read_path(paths.ENTRY, "JE-00000002") == "/v1/journal-entries/JE-00000002"
    assert paths.resource("/v1/journal-runs/JR-00000001/cancel") == ("run", "JR-00000001")
    assert paths.resource("/v1/journal-entries/JE-00000001") == ("entry", "JE-00000001")
    assert paths.resource("/v1/journal-entries/journal-runs/JR-1") == ("entries-of-run", "JR-1")
    assert paths.resource("/v1/journal-runs") is None
    assert paths.RUN_NUMBER.match("JR-00000001") and not paths.RUN_NUMBER.match("JR-1")


def error(code: str) -> dict[str, Any]:
    return {"success": False, "reasons": [{"code": code, "message": "x"}]}


@pytest.mark.parametrize(
    ("status", "body", "absent"),
    [
        (404, error("50000040"), True),
        (404, None, True),
        (200, error("50000040"), True),  # legacy style
        (400, error("50000020"), True),  # an invalid number: nothing by it exists
        (200, error("50000010"), False),  # legacy permission denied proves nothing
        (403, error("50000010"), False),
        (401, None, False),
        (429, error("50000070"), False),
        (500, error("50000060"), False),
        (409, error("50000050"), False),
        (200, {"success": True, "status": "Completed"}, False),
    ],
)
def test_one_rule_says_what_is_absent(status: int, body: Any, absent: bool) -> None:
    assert is_absent_answer(status, body) is absent


def test_the_ownership_rule_reads_only_what_it_does_not_own() -> None:
    ledger = Ledger(None, run_id="r", base_url="http://x")
    ledger.note("t", "POST", "/v1/journal-runs", 200, {"success": True, "journalRunNumber": "JR-1"})
    reads: list[str] = []

    def absent() -> bool:
        reads.append("read")
        return False

    assert ledger.may_change("t", paths.RUN, "JR-1", absent)
    assert not reads
    assert not ledger.may_change("t", paths.RUN, "JR-2", absent)
    assert not ledger.may_change("other", paths.RUN, "JR-1", absent)
    assert reads == ["read", "read"]
