"""Sample runs for the report tests: every status, hostile evidence, huge bodies, empty runs."""

from __future__ import annotations

from conformance import Assertion, CheckResult, Exchange, Requirement, RunResult, Stage, Target
from conformance._catalogue import Level
from conformance._results import CheckKind, LeftBehind

HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
HUGE = "x" * 200_000


def _req(rid: str, level: Level, statement: str, *operations: str, **kw: str) -> Requirement:
    return Requirement(rid, level, statement, rid.split("-")[1].lower(), "", operations, **kw)


REQUIREMENTS = [
    _req("JR-CREATE-001", "MUST", "create answers 201", "create"),
    _req("JR-CREATE-002", "MUST", "create validates the date", "create"),
    _req("JR-CREATE-003", "SHOULD", "create echoes the track id"),
    _req("JR-CANCEL-001", "MUST", "cancel answers success", "cancel"),
    _req("JR-CANCEL-002", "MUST", "cancel refused when processing", "cancel"),
    _req("JR-CANCEL-003", "MAY", "cancel may be asynchronous", "cancel"),
    _req("JR-DELETE-001", "MUST", "delete only cancelled runs", "delete"),
    _req("JR-AUTH-001", "MUST", "hidden", verification="not-observable: server side"),
]


def make_check(
    check_id: str,
    *assertions: Assertion,
    area: str = "create",
    kind: CheckKind = "scenario",
    reqs: tuple[str, ...] = (),
) -> CheckResult:
    check = CheckResult(
        id=check_id, title=f"title of {check_id}", kind=kind, area=area, requirement_ids=reqs
    )
    for assertion in assertions:
        check.record(assertion)
    check.settle()
    return check


def ok(*reqs: str) -> Assertion:
    return Assertion("status is right", reqs, passed=True, expected=201, actual=201)


def bad(*reqs: str, actual: object = 500, exchange: int | None = None) -> Assertion:
    return Assertion(
        "status is right",
        reqs,
        passed=False,
        expected=201,
        actual=actual,
        message=f"expected 201, got {actual}",
        step="create",
        exchange=exchange,
    )


def make_run(checks: list[CheckResult], run_id: str = "jrc-0001") -> RunResult:
    return RunResult(
        run_id=run_id,
        tool_version="0.1.0",
        target=Target("http://127.0.0.1:8123", "reference", "2024-05-20", ("journal-entries",)),
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:01:00Z",
        requirements=list(REQUIREMENTS),
        checks=checks,
        stages=[
            Stage("preflight", 0.5, 3),
            Stage("scenarios", 12.25, 40),
            Stage("fuzz", 30.0, 200),
        ],
        settings={"workers": 4, "zuora_version": "2024-05-20"},
    )


def sample_pass_run() -> RunResult:
    return make_run(
        [
            make_check("create-ok", ok("JR-CREATE-001", "JR-CREATE-002"), ok("JR-CREATE-003")),
            make_check("cancel-ok", ok("JR-CANCEL-001", "JR-CANCEL-002"), area="cancel"),
            make_check("cancel-async", ok("JR-CANCEL-003"), area="cancel"),
            make_check("delete-ok", ok("JR-DELETE-001"), area="delete"),
        ]
    )


def hostile_exchange(body: str = HOSTILE) -> Exchange:
    return Exchange(
        "POST",
        "http://127.0.0.1:8123/v1/journal-runs?x=<script>",
        {"Authorization": "Bearer [REDACTED]", "X-Evil": HOSTILE},
        request_body='{"journalEntryDate": "2014-11-04"}',
        status_code=500,
        response_headers={"Content-Type": "text/html"},
        response_body=body,
        elapsed_ms=12.5,
    )


def sample_mixed_run() -> RunResult:
    """2 of 5 testable MUSTs pass; one failure with hostile evidence, one with a huge body."""
    hostile = CheckResult("create-hostile", HOSTILE, "scenario", "create", ("JR-CREATE-001",))
    hostile.add_exchange(hostile_exchange())
    hostile.record(bad("JR-CREATE-001", actual=HOSTILE, exchange=0))
    hostile.record(ok("JR-CREATE-003"))
    hostile.settle()

    huge = CheckResult("create-huge", "huge body", "scenario", "create")
    index = huge.add_exchange(hostile_exchange(HUGE + "\x00\x1b control"))
    huge.record(bad("JR-CREATE-002", exchange=index))
    huge.settle()

    skipped = make_check("delete-skip", area="delete", reqs=("JR-DELETE-001",))
    skipped.skip("missing capability journal-entries")

    errored = make_check("cancel-error", area="cancel", reqs=("JR-CANCEL-003",))
    errored.add_exchange(Exchange("POST", "http://127.0.0.1:8123/v1/x", error="timed out"))
    errored.error("transport: timed out after 30 s")

    run = make_run(
        [
            hostile,
            huge,
            make_check("cancel-ok", ok("JR-CANCEL-001", "JR-CANCEL-002"), area="cancel"),
            skipped,
            errored,
            make_check("fuzz.create", ok("JR-CREATE-001"), kind="fuzz"),
        ]
    )
    run.left_behind = [LeftBehind("journal-run", "JR-00000042", "Processing", HOSTILE)]
    return run


def sample_empty_run() -> RunResult:
    run = make_run([])
    run.requirements = []
    run.stages = []
    run.setup_error = "connection refused: http://127.0.0.1:8123"
    return run
