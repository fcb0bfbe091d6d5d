"""The fuzz stage against the reference server: clean, with each injected fault, twice for
determinism, with a wrong token (the command line is tested in tests/cli/)."""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest
from conftest import MINTED, SMALL, FuzzRunner, reference_target

from conformance._catalogue import Catalogue
from conformance._exceptions import SetupError
from conformance._http import Pacer
from conformance._results import CheckResult, Status
from conformance.fuzz import (
    FuzzOptions,
    FuzzResult,
    FuzzTarget,
    fuzz,
    fuzz_checks,
    run_fuzz,
)

EXAMPLE_CREATE = {
    "accountingPeriodName": "Nov-2014",
    "journalEntryDate": "2014-11-04",
    "transactionTypes": [{"type": "Invoice Item"}],
}


def by_id(outcome: FuzzResult) -> dict[str, CheckResult]:
    return {check.id: check for check in outcome.checks}


def failed_ids(check: CheckResult) -> set[str]:
    return {rid for a in check.failed_assertions for rid in a.requirement_ids}


@pytest.fixture(scope="module")
def clean_default(fuzz_reference: FuzzRunner) -> FuzzResult:
    """The faithful reference at the default budget (10 examples, every phase, legacy pass)."""
    return fuzz_reference(options=FuzzOptions())


@pytest.fixture(scope="module")
def clean_small(fuzz_reference: FuzzRunner) -> FuzzResult:
    return fuzz_reference()


#: Per fault, the smallest budget that shows it: a Completed run deleted needs the stateful
#: phase (it follows created runs); the envelope faults show on any error answer.
FAULT_BUDGET = {
    "delete-completed": FuzzOptions(max_examples=2, legacy_examples=0),
    "modern-errors-as-200": FuzzOptions(max_examples=2, phases=("examples", "coverage")),
    "seven-digit-codes": FuzzOptions(max_examples=2, phases=("examples", "coverage")),
}


@pytest.fixture(scope="module")
def faulty(fuzz_reference: FuzzRunner) -> Callable[[str], FuzzResult]:
    """The outcome against a reference with one fault (each run once per module)."""
    outcomes: dict[str, FuzzResult] = {}

    def get(fault: str) -> FuzzResult:
        if fault not in outcomes:
            outcomes[fault] = fuzz_reference(fault, options=FAULT_BUDGET[fault])
        return outcomes[fault]

    return get


def test_the_reference_passes_at_the_default_budget(clean_default: FuzzResult) -> None:
    checks = by_id(clean_default)
    assert list(checks) == [c.id for c in fuzz_checks()]
    problems = {
        check.id: check.message for check in clean_default.checks if check.status != Status.PASS
    }
    assert not problems
    # Every check judged something: the lifecycle ones saw runs the fuzzer created.
    assert all(check.assertions for check in clean_default.checks)
    assert clean_default.requests > 500
    assert clean_default.stop_reasons == {
        "stateful": "completed",
        "main": "completed",
        "legacy": "completed",
    }
    # The fuzzer created runs; each was deleted by the follow-through or is reported for
    # cleanup (which of the two depends on the requests the seed draws).
    handled = [*clean_default.gone, *clean_default.not_deleted]
    assert any(number.startswith("JR-") for number in handled)
    print(
        f"\nclean, default budget: {clean_default.requests} requests, {clean_default.wall_s:.1f} s"
    )


@pytest.mark.parametrize(
    ("fault", "check_id", "requirement_id"),
    [
        ("delete-completed", "fuzz.delete-rule", "JR-DELETE-002"),
        ("modern-errors-as-200", "fuzz.error-status", "JR-VERSIONS-003"),
        ("seven-digit-codes", "fuzz.error-envelope", "JR-ERRORS-004"),
    ],
)
def test_each_fault_fails_the_stage_and_names_the_requirement(
    faulty: Callable[[str], FuzzResult],
    clean_default: FuzzResult,
    fault: str,
    check_id: str,
    requirement_id: str,
) -> None:
    # The faithful reference, at a larger budget, passes the requirement ...
    assert by_id(clean_default)[check_id].status_for(requirement_id) is Status.PASS
    # ... and the faulty one fails it, with evidence and a reproduction.
    check = by_id(faulty(fault))[check_id]
    assert check.status is Status.FAIL
    assert requirement_id in failed_ids(check)
    assert check.status_for(requirement_id) is Status.FAIL
    example = next(
        a
        for a in check.failed_assertions
        if a.exchange is not None and requirement_id in a.requirement_ids
    )
    assert "Reproduce: curl" in example.message
    assert example.exchange is not None and check.evidence[example.exchange].status_code is not None


def test_seven_digit_codes_also_break_the_schema_of_the_envelope(
    faulty: Callable[[str], FuzzResult],
) -> None:
    check = by_id(faulty("seven-digit-codes"))["fuzz.response-schema"]
    assert "JR-ERRORS-002" in failed_ids(check)


def test_two_runs_send_the_same_requests(
    fuzz_reference: FuzzRunner,
    clean_small: FuzzResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even when code loaded in between is full of constants Hypothesis would like to draw."""
    module = tmp_path / "jrc_constants_probe.py"
    words = [f"JR-{n:08d}" for n in range(200)] + ["Invoice Item", "Reproduce: ", "Nov-2014"]
    module.write_text("\n".join(f"C{i} = {w!r}" for i, w in enumerate(words)) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("jrc_constants_probe")
    again = fuzz_reference()
    first = [(s.method, s.target, s.body) for s in clean_small.sent]
    second = [(s.method, s.target, s.body) for s in again.sent]
    assert clean_small.requests > len(first) > 100  # plus the preflight and guard reads
    assert first == second


def test_another_seed_sends_other_requests(fuzz_reference: FuzzRunner) -> None:
    def sent(seed: int) -> list[tuple[str, str, str | None]]:
        options = FuzzOptions(max_examples=3, seed=seed, phases=("fuzzing",), legacy_examples=0)
        return [(s.method, s.target, s.body) for s in fuzz_reference(options=options).sent]

    assert sent(0) != sent(7)


def test_results_never_carry_the_token(faulty: Callable[[str], FuzzResult]) -> None:
    checks = faulty("seven-digit-codes").checks
    text = json.dumps([asdict(check) for check in checks], default=str)
    assert sum(len(check.evidence) for check in checks) > 3
    assert "Bearer [REDACTED]" in text
    assert MINTED and not any(token in text for token in MINTED)


def test_a_wrong_token_is_a_setup_error(catalogue: Catalogue) -> None:
    with reference_target() as target:
        wrong = FuzzTarget(target.base_url, headers={"Authorization": "Bearer not-a-token"})
        with pytest.raises(SetupError, match="401") as raised:
            run_fuzz(catalogue, wrong, SMALL)
    assert "not-a-token" not in str(raised.value)


def test_an_unreachable_target_is_a_setup_error(catalogue: Catalogue) -> None:
    with reference_target() as target:
        url = target.base_url
    with pytest.raises(SetupError, match="cannot reach"):
        run_fuzz(catalogue, FuzzTarget(url, headers={"Authorization": "Bearer x"}), SMALL)


def test_every_request_of_the_stage_takes_a_turn_from_the_runs_pacer(
    catalogue: Catalogue,
) -> None:
    """schemathesis's requests, the preflight and the guard's reads all spend the one budget a
    run shares (``--rate-limit``), so the count of turns is the count of requests."""

    class Counting(Pacer):
        turns = 0

        def reserve(self) -> float:
            Counting.turns += 1
            return 0.0

    options = FuzzOptions(max_examples=2, phases=("examples", "fuzzing"), legacy_examples=1)
    with reference_target() as target:
        paced = dataclasses.replace(target, pacer=Counting(10_000))
        outcome = fuzz(catalogue, paced, options)
    assert outcome.requests > 20
    assert Counting.turns == outcome.requests


def test_the_follow_through_judges_the_runs_schemathesis_left(
    fuzz_reference: FuzzRunner,
) -> None:
    """The examples phase creates runs but never cancels or deletes them; the follow-through
    does, and its exchanges are judged by the cancel and delete rules like the fuzzer's own."""
    options = FuzzOptions(max_examples=1, phases=("examples",), legacy_examples=0)
    outcome = fuzz_reference(options=options)
    checks = by_id(outcome)
    for check_id in ("fuzz.cancel-rule", "fuzz.delete-rule", "fuzz.lifecycle"):
        assert checks[check_id].status is Status.PASS, checks[check_id].message
    ids = {a.requirement_ids[0] for a in checks["fuzz.cancel-rule"].assertions}
    assert {"JR-CANCEL-001", "JR-CANCEL-002"} <= ids
    # Cleaned as it went: nothing it created is left for the run's cleanup.
    assert not [n for n in outcome.not_deleted if n.startswith("JR-")]
    # Not schemathesis's requests: the sequence a seed reproduces is unchanged.
    assert all("cleanup" not in sent.target for sent in outcome.sent)


def test_the_follow_through_finds_a_faulty_cancel(fuzz_reference: FuzzRunner) -> None:
    """A cancel answered with HTTP 204 is caught by the follow-through's own cancel, with the
    exchange as evidence, at a budget where schemathesis cancels nothing."""
    options = FuzzOptions(max_examples=1, phases=("examples",), legacy_examples=0)
    check = by_id(fuzz_reference("cancel-answers-204", options=options))["fuzz.cancel-rule"]
    assert check.status is Status.FAIL
    assert "JR-CANCEL-001" in failed_ids(check)
    assert any(e.method == "PUT" and e.status_code == 204 for e in check.evidence)


def test_on_a_shared_tenant_no_entry_is_marked_transferred(fuzz_reference: FuzzRunner) -> None:
    """An entry transferred to accounting cannot be cancelled, and moving it back needs an
    override permission: on a tenant that is not the suite's own, the fuzzer never sends a write
    that marks one (on a fresh reference tenant, the same budget sends about a hundred)."""
    outcome = fuzz_reference(options=dataclasses.replace(SMALL, shared_tenant=True))
    marking = []
    for sent in outcome.sent:
        if sent.method in ("GET", "HEAD", "OPTIONS") or not sent.body:
            continue
        if not sent.target.startswith("/v1/journal-entries"):
            continue
        try:
            body = json.loads(sent.body)
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("transferredToAccounting", "No") != "No":
            marking.append(f"{sent.method} {sent.target}")
    assert len(outcome.sent) > 300
    assert marking == []


def test_checks_that_see_nothing_are_errors_never_passes(fuzz_reference: FuzzRunner) -> None:
    outcome = fuzz_reference(
        options=FuzzOptions(
            max_examples=1, phases=("examples",), legacy_examples=0, follow_through=False
        )
    )
    checks = by_id(outcome)
    # The examples phase never follows a created run through its lifecycle.
    assert checks["fuzz.delete-rule"].status is Status.ERROR
    assert "asserted nothing" in checks["fuzz.delete-rule"].message


def test_the_fuzzer_never_changes_what_it_did_not_create(catalogue: Catalogue) -> None:
    # 75 runs made outside the fuzz stage: JR-00000075 is the spec's example number, the one the
    # fuzzer sends first.
    with (
        reference_target() as target,
        httpx.Client(
            base_url=target.base_url, headers={"Authorization": f"Bearer {target.token}"}
        ) as client,
    ):
        for _ in range(75):
            number = client.post("/v1/journal-runs", json=EXAMPLE_CREATE).json()["journalRunNumber"]
            assert client.get(f"/v1/journal-runs/{number}").json()["status"] == "Completed"
        assert number == "JR-00000075"
        options = FuzzOptions(max_examples=2, phases=("examples", "coverage"), legacy_examples=0)
        outcome = fuzz(catalogue, target, options)
        after = client.get("/v1/journal-runs/JR-00000075").json()
    changes = [s for s in outcome.sent if s.method not in ("GET", "HEAD", "OPTIONS")]
    assert any(s.method == "POST" for s in changes)  # it does write: its own runs
    assert not any("JR-00000075" in s.target for s in changes)
    assert "JR-00000075" in outcome.guarded
    assert after["status"] == "Completed"
    assert "JR-00000075" in by_id(outcome)["fuzz.engine"].assertions[0].message


def test_while_others_create_the_guard_reads_an_absence_again_before_each_change() -> None:
    """Alone on the tenant, a number read absent stays absent (one read); while the scenarios
    create runs beside the fuzz stage, the number may be theirs a moment later: read again."""
    from conformance._ledger import RUN
    from conformance._redact import Redactor
    from conformance.fuzz._guard import Guard

    with reference_target() as target:
        guard = Guard(target, Redactor([target.token]), undoable_only=True)
        try:
            assert guard._may_change(RUN, "JR-00000042") and guard._may_change(RUN, "JR-00000042")
            assert guard.probes == 1
            guard.others_creating = True
            assert guard._may_change(RUN, "JR-00000042") and guard._may_change(RUN, "JR-00000042")
            assert guard.probes == 3
        finally:
            guard.close()
