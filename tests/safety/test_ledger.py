"""The ledger records what the suite creates, at once; the guard keeps sessions off everything
else; cleanup drives what the ledger holds to not-found, or reports it left behind."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN

from conformance._cleanup import clean, worth_retrying
from conformance._exceptions import TransportError
from conformance._http import BearerToken, HttpSettings, Request, Session
from conformance._ledger import RUN, Ledger, UnsafeRequest, load_ledger, tenant_key
from conformance.cli import main
from conformance.reference import ReferenceServer, ReferenceSettings

NOV_2014 = {
    "accountingPeriodName": "Nov-2014",
    "journalEntryDate": "2014-11-04",
    "transactionTypes": [{"type": "Invoice Item"}],
}
ENTRY = {
    "accountingPeriodName": "Nov-2014",
    "currency": "USD",
    "journalEntryDate": "2014-11-10",
    "transactionType": "Invoice Adjustment",
    "journalEntryItems": [
        {"accountingCodeName": "Accounts Receivable", "type": "Debit", "amount": 10},
        {"accountingCodeName": "Sales Revenue", "type": "Credit", "amount": 10},
    ],
}


def _session(server: ReferenceServer, token: str = TOKEN) -> Session:
    return Session(HttpSettings(base_url=server.url, run_id="jrc-test"), BearerToken(token))


def _protected(
    server: ReferenceServer, path: Path | None, *, read_only: bool = False
) -> tuple[Session, Ledger, str]:
    session = _session(server)
    ledger = Ledger(path, run_id="jrc-test", base_url=server.url)
    key = tenant_key(session.auth)
    ledger.watch(session, key)
    ledger.guard(session, key, read_only=read_only, foreign=True)
    return session, ledger, key


def _status(session: Session, number: str) -> Any:
    body = session.do(Request("GET", f"/v1/journal-runs/{number}")).json()
    return body.get("status") if body.get("success") is not False else "not found"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_create_is_on_disk_as_soon_as_it_answers(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.jsonl"
    session, _ledger, key = _protected(reference, path)
    with session:
        run = session.do(Request("POST", "/v1/journal-runs", json=NOV_2014)).json()
        # Read back from the file (a crash right now would still leave the number behind).
        lines = _lines(path)
        assert [(x["kind"], x["number"], x["state"]) for x in lines] == [
            ("journal-run", run["journalRunNumber"], "created")
        ]
        assert lines[0]["base_url"] == reference.url and lines[0]["tenant"] == key
        entry = session.do(Request("POST", "/v1/journal-entries", json=ENTRY)).json()
        refused = session.do(Request("POST", "/v1/journal-runs", json={"bad": 1})).json()
        assert refused["success"] is False
    numbers = [x["number"] for x in _lines(path)]
    assert numbers == [run["journalRunNumber"], entry["journalEntryNumber"]]
    assert TOKEN not in path.read_text()


def test_the_guard_never_touches_a_run_the_suite_did_not_create(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    with _session(reference) as outsider:  # someone else's run on the same tenant
        foreign = outsider.do(Request("POST", "/v1/journal-runs", json=NOV_2014)).json()
        number = foreign["journalRunNumber"]
    session, ledger, _ = _protected(reference, tmp_path / "ledger.jsonl")
    with session:
        for request in (
            Request("PUT", f"/v1/journal-runs/{number}/cancel"),
            Request("DELETE", f"/v1/journal-runs/{number}"),
            Request("PATCH", f"/v1/journal-runs/{number}", json={}),
        ):
            sent = session.requests_sent
            with pytest.raises(UnsafeRequest, match=f"would change journal-run {number}"):
                session.do(request)
            assert session.requests_sent == sent + 1  # the read that found it; nothing else
        assert _status(session, number) == "Completed"
        # A number nobody has can be asked about: that is how not-found is tested.
        answer = session.do(Request("DELETE", "/v1/journal-runs/JR-99999999"))
        assert answer.json()["success"] is False
        # What the suite created, it may change.
        mine = session.do(Request("POST", "/v1/journal-runs", json=NOV_2014)).json()
        assert session.do(Request("PUT", f"/v1/journal-runs/{mine['journalRunNumber']}/cancel"))
        assert ledger.owns(ledger.items()[0].tenant, RUN, mine["journalRunNumber"])


def test_entries_of_an_owned_run_are_the_runs(reference: ReferenceServer, tmp_path: Path) -> None:
    session, ledger, _ = _protected(reference, tmp_path / "ledger.jsonl")
    with session:
        run = session.do(Request("POST", "/v1/journal-runs", json=NOV_2014)).json()
        number = run["journalRunNumber"]
        listed = session.do(Request("GET", f"/v1/journal-entries/journal-runs/{number}")).json()
        first = listed["journalEntries"][0]["number"]
        answer = session.do(Request("PUT", f"/v1/journal-entries/{first}/cancel"))
        assert answer.json()["success"] is True
    assert [item.number for item in ledger.items()] == [number]  # entries are not items


def test_a_read_only_session_sends_no_write(reference: ReferenceServer, tmp_path: Path) -> None:
    session, _, _ = _protected(reference, tmp_path / "ledger.jsonl", read_only=True)
    with session:
        with pytest.raises(UnsafeRequest, match="read-only"):
            session.do(Request("POST", "/v1/journal-runs", json=NOV_2014))
        assert session.requests_sent == 0
        assert session.do(Request("GET", "/v1/journal-runs/JR-00000001")).status_code in (200, 404)


def test_cleanup_waits_for_a_processing_run_then_cancels_and_deletes(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    session, ledger, key = _protected(reference, tmp_path / "ledger.jsonl")
    with session:
        held = session.do(
            Request("POST", "/v1/journal-runs", json=NOV_2014, headers={"X-Reference-Hold": "1"})
        ).json()["journalRunNumber"]
        assert _status(session, held) == "Processing"
        left = clean(ledger, ledger.open_items(), lambda k: session if k == key else None)
        assert left == []
        assert _status(session, held) == "not found"
    states = [(x["number"], x["state"]) for x in _lines(tmp_path / "ledger.jsonl")]
    assert states == [(held, "created"), (held, "cleaned")]


def test_what_cannot_be_cleaned_is_left_behind_with_its_number_and_status(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    session, ledger, _key = _protected(reference, tmp_path / "ledger.jsonl")
    with session:
        number = session.do(Request("POST", "/v1/journal-runs", json=NOV_2014)).json()[
            "journalRunNumber"
        ]
        entries = session.do(Request("GET", f"/v1/journal-entries/journal-runs/{number}")).json()
        first = entries["journalEntries"][0]["number"]
        # An entry transferred to accounting keeps the run from being cancelled (the reference
        # refuses to reset it without the override permission).
        session.do(
            Request(
                "PUT",
                f"/v1/journal-entries/{first}/basic-information",
                json={"transferredToAccounting": "Yes"},
            )
        )
        gone = session.do(Request("POST", "/v1/journal-entries", json=ENTRY)).json()
        before = session.requests_sent
        left = clean(ledger, ledger.open_items(), lambda k: session, wait_s=10)
        sent = session.requests_sent - before
    assert [(i.kind, i.number, i.status) for i in left] == [("journal-run", number, "Completed")]
    # The documented partial cancel: accepted, but the run stays Completed. Cleanup sees why
    # (one read of its entries) instead of waiting and asking again.
    assert f"its entry {first} is transferred to accounting" in left[0].reason
    # The run: read, cancel, read, its entries. The entry: read, cancel, read, delete, read.
    assert sent == 9
    items, _ = load_ledger(tmp_path / "ledger.jsonl")
    assert {i.number: i.state for i in items} == {
        number: "left-behind",
        gone["journalEntryNumber"]: "cleaned",
    }


def test_not_found_counts_as_cleaned(reference: ReferenceServer, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl", run_id="jrc-test", base_url=reference.url)
    ledger.record("token x", RUN, "JR-00000042")  # never existed on this tenant
    with _session(reference) as session:
        assert clean(ledger, ledger.open_items(), lambda k: session) == []
    assert ledger.items()[0].state == "cleaned"


def test_cleanup_command_finishes_the_job_from_the_ledger(
    reference: ReferenceServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "ledger.jsonl"
    session, _ledger, _ = _protected(reference, path)
    with session:
        numbers = [
            session.do(Request("POST", "/v1/journal-runs", json=NOV_2014)).json()[
                "journalRunNumber"
            ]
        ]
        session.do(Request("PUT", f"/v1/journal-runs/{numbers[0]}/cancel"))
        assert _status(session, numbers[0]) == "Cancelled"
        numbers.append(
            session.do(Request("POST", "/v1/journal-runs", json=NOV_2014)).json()[
                "journalRunNumber"
            ]
        )
    # ... and here the run crashed. Another tenant's credentials touch nothing:
    monkeypatch.setenv("JR_TOKEN", TOKEN + "-other")
    assert main(["cleanup", "--ledger", str(path)]) == 1
    out = capsys.readouterr().out
    assert "left alone" in out and "these credentials are" in out
    with _session(reference) as check:
        assert [_status(check, n) for n in numbers] == ["Cancelled", "Completed"]

    monkeypatch.setenv("JR_TOKEN", TOKEN)
    assert main(["cleanup", "--ledger", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"cleaned: journal-run {numbers[1]}" in out and "2 cleaned, 0 left behind" in out
    assert out.index(numbers[1]) < out.index(f"cleaned: journal-run {numbers[0]}")  # newest first
    with _session(reference) as check:
        assert [_status(check, n) for n in numbers] == ["not found", "not found"]
    assert TOKEN not in out and TOKEN not in path.read_text()
    assert main(["cleanup", "--ledger", str(path)]) == 0
    assert "nothing to clean up" in capsys.readouterr().out


def test_cleanup_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cleanup", "--ledger", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n{}\n")
    assert main(["cleanup", "--ledger", str(bad)]) == 2
    assert "line 1: not a ledger line" in capsys.readouterr().err


FORGETFUL = """
id: forgetful
title: Creates a run and has no cleanup steps
requirements: [JR-CREATE-001]
steps:
  - name: create
    operation: POST_JournalRun
    body: {accountingPeriodName: Nov-2014, journalEntryDate: "2014-11-04",
           transactionTypes: [{type: Invoice Item}]}
    expect: {status: 200}
    save: {run: /journalRunNumber}
"""


def test_on_a_shared_tenant_a_scenario_hands_back_settled_runs_and_cleanup_removes_them(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    """The second scenario's create is accepted (the first's run settled before the hand-back);
    both runs stay in the ledger, open, until the cleanup (the run's cleanup stage) removes them
    side by side."""
    from conformance._catalogue import load_catalogue
    from conformance._tenants import Protection, SharedTenant
    from conformance.scenarios import parse_scenario, run_scenarios

    catalogue = load_catalogue()
    scenario = parse_scenario(FORGETFUL, catalogue=catalogue)
    settings = HttpSettings(base_url=reference.url, run_id="jrc-test")
    with SharedTenant(settings, BearerToken(TOKEN)) as tenants:
        ledger = Ledger(tmp_path / "ledger.jsonl", run_id="jrc-test", base_url=reference.url)
        tenants.protect(Protection(ledger))
        results = run_scenarios(catalogue, [scenario, scenario], tenants)
        assert [r.status.label for r in results] == ["pass", "pass"]
        numbers = [item.number for item in ledger.open_items()]
        assert len(numbers) == 2
        with _session(reference) as session:
            assert [_status(session, n) for n in numbers] == ["Completed", "Completed"]
        assert clean(ledger, ledger.open_items(), tenants.session_for) == []
    assert {item.state for item in ledger.items()} == {"cleaned"}
    with _session(reference) as session:
        assert [_status(session, n) for n in numbers] == ["not found", "not found"]


def test_a_create_without_an_answer_is_recorded_as_lost(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    from _hostile import HostileServer

    with HostileServer(reference.url, "silent") as hostile:
        settings = HttpSettings(base_url=hostile.url, timeout_s=0.5)
        session = Session(settings, BearerToken(TOKEN))
        ledger = Ledger(tmp_path / "ledger.jsonl", run_id="jrc-test", base_url=hostile.url)
        ledger.watch(session, "t")
        with session, pytest.raises(TransportError):
            session.do(Request("POST", "/v1/journal-entries", json=ENTRY))
    [lost] = ledger.lost()
    assert lost.number == "(unknown)" and "got no answer" in lost.reason
    assert _lines(tmp_path / "ledger.jsonl")[0]["state"] == "lost"


def test_cleanup_gives_up_at_once_when_the_target_is_gone(tmp_path: Path) -> None:
    """A target that stopped answering costs one failed request, not a deadline per item."""
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    ledger = Ledger(tmp_path / "ledger.jsonl", run_id="jrc-test", base_url=url)
    for number in range(1, 31):
        ledger.record("token x", RUN, f"JR-{number:08d}")
    session = Session(HttpSettings(base_url=url, timeout_s=2), BearerToken("x"))
    with session:
        started = time.monotonic()
        left = clean(ledger, ledger.open_items(), lambda k: session, wait_s=120)
        wall = time.monotonic() - started
    assert len(left) == 30
    assert session.requests_sent == 1  # the first read failed; nothing else was sent
    assert left[0].number == "JR-00000030" and "not tried" not in left[0].reason
    assert all(
        item.reason.startswith("not tried: the target stopped answering") for item in left[1:]
    )
    assert wall < 10, wall
    # The ledger keeps them open for a later `jr-conformance cleanup --ledger`.
    assert all(worth_retrying(item) for item in ledger.open_items())


def test_cleanup_waits_out_one_deadline_for_runs_a_target_never_finishes(tmp_path: Path) -> None:
    """Three tenants, each with a run held in Processing: the first costs the whole deadline;
    the others, seen in the same state, are given up on after a short grace."""
    tokens = tuple(f"{TOKEN}-{n}" for n in range(3))
    with ReferenceServer(ReferenceSettings(tokens=tokens)) as server:
        ledger = Ledger(tmp_path / "ledger.jsonl", run_id="jrc-test", base_url=server.url)
        sessions: dict[str, Session] = {}
        for token in tokens:
            session = Session(HttpSettings(base_url=server.url), BearerToken(token))
            key = tenant_key(session.auth)
            ledger.watch(session, key)
            sessions[key] = session
            request = Request(
                "POST", "/v1/journal-runs", json=NOV_2014, headers={"X-Reference-Hold": "120"}
            )
            session.do(request)
        try:
            left = clean(ledger, ledger.open_items(), sessions.get, wait_s=2)
        finally:
            for session in sessions.values():
                session.close()
    assert [item.status for item in left] == ["Processing"] * 3
    assert left[0].reason == "still Processing after 2 s"
    for item in left[1:]:
        assert "not waited for, as an earlier item stayed Processing for the whole 2 s" in (
            item.reason
        )


def test_cleanup_cleans_neighbours_of_one_kind_together() -> None:
    """Items of one kind next to one another (newest first) are one batch, at most eight, so an
    entry made before a run is still cleaned after that run."""
    from conformance._cleanup import _batches
    from conformance._ledger import ENTRY, Item

    def item(kind: str, number: str) -> Item:
        return Item("r", "http://x", "t", kind, number, created_at="")

    items = [item(ENTRY, f"JE-{i:08d}") for i in range(10)]
    items += [item(RUN, "JR-00000001"), item(RUN, "JR-00000002"), item(ENTRY, "JE-00000099")]
    items += [item(RUN, "JR-00000003")]
    batches = [[i.number for i in batch] for batch in _batches(items)]
    assert batches == [
        [f"JE-{i:08d}" for i in range(8)],
        ["JE-00000008", "JE-00000009"],
        ["JR-00000001", "JR-00000002"],
        ["JE-00000099"],
        ["JR-00000003"],
    ]


def test_a_run_that_does_not_settle_by_the_hand_back_is_cleaned_or_given_up_on_there(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    """A shared tenant's next holder needs the run settled: one still Processing after the
    cleanup wait is not left for the cleanup stage, it is cleaned at the hand-back, and what
    could not be is reported there."""
    from conformance._tenants import Protection, SharedTenant

    settings = HttpSettings(base_url=reference.url, run_id="jrc-test")
    with SharedTenant(settings, BearerToken(TOKEN)) as tenants:
        ledger = Ledger(tmp_path / "ledger.jsonl", run_id="jrc-test", base_url=reference.url)
        tenants.protect(Protection(ledger, cleanup_wait_s=1.0))
        with tenants.acquire("held") as tenant:
            request = Request(
                "POST", "/v1/journal-runs", json=NOV_2014, headers={"X-Reference-Hold": "60"}
            )
            number = tenant.session.do(request).json()["journalRunNumber"]
    [left] = tenant.left_behind
    assert (left.number, left.status) == (number, "Processing")
    assert [item.state for item in ledger.items()] == ["left-behind"]
