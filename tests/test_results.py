"""The result model: ordered statuses, the worst wins, nothing that asserted nothing passes."""

from __future__ import annotations

import json

from conformance import Assertion, CheckResult, Exchange, Requirement, RunResult, Status, Target


def _check(check_id: str, *assertions: Assertion, reqs: tuple[str, ...] = ()) -> CheckResult:
    check = CheckResult(
        id=check_id, title=check_id, kind="scenario", area="cancel", requirement_ids=reqs
    )
    for assertion in assertions:
        check.record(assertion)
    check.settle()
    return check


def _ok(req: str) -> Assertion:
    return Assertion("ok", (req,), passed=True)


def _bad(req: str) -> Assertion:
    return Assertion("bad", (req,), passed=False, message="expected 200, got 500")


def test_statuses_are_ordered_and_the_worst_wins() -> None:
    assert Status.PASS < Status.SKIP < Status.XFAIL < Status.WARN < Status.FAIL < Status.ERROR
    assert Status.worst([Status.PASS, Status.FAIL, Status.SKIP]) is Status.FAIL
    assert Status.worst([]) is None


def test_a_check_that_asserted_nothing_is_an_error() -> None:
    check = _check("empty")
    assert check.status is Status.ERROR
    assert "asserted nothing" in check.message


def test_a_failed_assertion_blames_only_its_requirements() -> None:
    check = _check("c", _ok("JR-CANCEL-001"), _bad("JR-CANCEL-002"))
    assert check.status is Status.FAIL
    assert check.message == "expected 200, got 500"
    assert check.status_for("JR-CANCEL-001") is Status.PASS
    assert check.status_for("JR-CANCEL-002") is Status.FAIL
    assert check.status_for("JR-DELETE-001") is None


def test_a_skip_is_never_a_pass() -> None:
    check = CheckResult(
        id="s", title="s", kind="scenario", area="cancel", requirement_ids=("JR-CANCEL-001",)
    )
    check.skip("missing capability journal-entries")
    check.settle()
    run = _run([check])
    assert run.status is Status.SKIP
    assert run.score("MUST").passed == 0


def _run(checks: list[CheckResult]) -> RunResult:
    requirements = [
        Requirement("JR-CANCEL-001", "MUST", "cancel answers success", "cancel"),
        Requirement("JR-CANCEL-002", "MUST", "cancel refused when processing", "cancel"),
        Requirement("JR-CANCEL-003", "SHOULD", "something optional", "cancel"),
        Requirement("JR-AUTH-001", "MUST", "hidden", "auth", verification="not-observable: x"),
    ]
    return RunResult(
        run_id="r1",
        tool_version="0",
        target=Target("http://x"),
        started_at="2026-01-01T00:00:00Z",
        requirements=requirements,
        checks=checks,
    )


def test_roll_up_scores_and_uncovered_requirements() -> None:
    run = _run([_check("a", _ok("JR-CANCEL-001")), _check("b", _bad("JR-CANCEL-001"))])
    outcomes = {o.requirement.id: o for o in run.outcomes()}
    assert outcomes["JR-CANCEL-001"].status is Status.FAIL
    assert outcomes["JR-CANCEL-001"].check_ids == ["a", "b"]
    assert outcomes["JR-CANCEL-002"].status is None
    # Two testable MUSTs, none passing; the not-observable one is outside the score.
    assert (run.score("MUST").passed, run.score("MUST").total) == (0, 2)
    assert [r.id for r in run.uncovered()] == ["JR-CANCEL-002"]
    assert run.by_area() == {"cancel": Status.FAIL, "auth": None}
    assert run.status is Status.FAIL


def test_an_empty_run_or_a_setup_error_is_an_error() -> None:
    assert _run([]).status is Status.ERROR
    run = _run([_check("a", _ok("JR-CANCEL-001"))])
    assert run.status is Status.PASS
    run.setup_error = "connection refused"
    assert run.status is Status.ERROR


def test_results_round_trip_through_json() -> None:
    check = _check("a", _ok("JR-CANCEL-001"), reqs=("JR-CANCEL-001",))
    check.add_exchange(
        Exchange(
            "GET",
            "http://x/v1/journal-runs/JR-00000001",
            {"Authorization": "Bearer [REDACTED]"},
            status_code=200,
        )
    )
    run = _run([check])
    data = json.loads(json.dumps(run.to_dict()))
    assert data["status"] == "pass"
    assert data["checks"][0]["status"] == "pass"
    again = RunResult.from_dict(data)
    assert again.to_dict() == run.to_dict()


def test_curl_reproduces_the_request() -> None:
    exchange = Exchange(
        "POST",
        "http://x/v1/journal-runs",
        {"Content-Type": "application/json"},
        request_body='{"a": 1}',
    )
    assert exchange.curl() == (
        "curl -sS -X POST -H 'Content-Type: application/json' --data-binary '{\"a\": 1}' "
        "http://x/v1/journal-runs"
    )


# -- the gate: SHOULD/MAY failures warn, MUST failures fail, strict fails on both ----------------


def test_a_should_failure_is_a_warning_and_does_not_fail_the_run() -> None:
    run = _run([_check("a", _ok("JR-CANCEL-001"), _bad("JR-CANCEL-003"))])
    assert run.checks[0].status is Status.FAIL  # settled without levels: nothing softened
    run.grade({"JR-CANCEL-001": "MUST", "JR-CANCEL-003": "SHOULD"})
    check = run.checks[0]
    assert check.status is Status.WARN
    assert check.status_for("JR-CANCEL-001") is Status.PASS
    outcomes = {o.requirement.id: o.status for o in run.outcomes()}
    assert outcomes == {
        "JR-CANCEL-001": Status.PASS,
        "JR-CANCEL-002": None,
        "JR-CANCEL-003": Status.WARN,
        "JR-AUTH-001": None,
    }
    assert run.counts()["warn"] == 1
    assert (run.status, run.verdict, run.exit_code) == (Status.WARN, Status.WARN, 0)
    run.strict = True
    assert (run.verdict, run.exit_code) == (Status.FAIL, 1)


def test_a_failure_that_names_a_must_or_nothing_stays_a_failure() -> None:
    levels = {"JR-CANCEL-001": "MUST", "JR-CANCEL-003": "SHOULD"}
    both = _check("a", Assertion("bad", ("JR-CANCEL-001", "JR-CANCEL-003"), passed=False))
    unnamed = _check("b", _bad("JR-CANCEL-003"), Assertion("bad", (), passed=False))
    unknown = _check("c", _bad("JR-NOWHERE-001"))
    run = _run([both, unnamed, unknown])
    run.grade(levels)
    assert [c.status for c in run.checks] == [Status.FAIL] * 3
    assert (run.verdict, run.exit_code) == (Status.FAIL, 1)


def test_exit_codes_come_from_the_result() -> None:
    run = _run([_check("a", _ok("JR-CANCEL-001"))])
    assert run.exit_code == 0
    run.gate_problems = ["known.yaml: entry 1 matches nothing: stale entry"]
    assert (run.verdict, run.exit_code) == (Status.FAIL, 1)
    run.setup_error = "unreachable"
    assert run.exit_code == 3
    run.interrupted = True
    assert run.exit_code == 130
    data = json.loads(json.dumps(run.to_dict()))
    assert (data["exit_code"], data["interrupted"], data["strict"]) == (130, True, False)
    assert RunResult.from_dict(data).exit_code == 130
