"""The Journal Runs rules and the tallies, on hand-made observations (no server involved)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from typing import Any

import pytest

from conformance._catalogue import Catalogue
from conformance._exceptions import ConfigError
from conformance._redact import Redactor
from conformance._results import Status
from conformance.fuzz import (
    BUILTIN_GROUPS,
    CUSTOM_CHECKS,
    DISABLED,
    DISABLED_IN_LEGACY,
    FuzzOptions,
    FuzzTarget,
    Sent,
)
from conformance.fuzz._builtins import group_of, requirement_for
from conformance.fuzz._checks import Rules
from conformance.fuzz._observe import Observation
from conformance.fuzz._registry import Finding
from conformance.fuzz._spec_prep import UNDECIDED_BOUNDS, prepare_spec
from conformance.fuzz._tally import Tally

TOKEN = "tok-SECRET-1234567890"
REQUEST_ID = "0f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0"
MODERN = "2024-05-20"


def obs(
    operation_id: str | None,
    method: str,
    status: int,
    body: Any,
    *,
    number: str | None = None,
    version: str | None = MODERN,
    track: str | None = "jrc.fuzz.op",
    echo: str | None = "same",
    request_id: str | None = REQUEST_ID,
    index: int = 0,
) -> Observation:
    request_headers = {"authorization": f"Bearer {TOKEN}"}
    if version is not None:
        request_headers["zuora-version"] = version
    if track is not None:
        request_headers["zuora-track-id"] = track
    response_headers = {"content-type": "application/json"}
    if request_id is not None:
        response_headers["zuora-request-id"] = request_id
    if echo is not None and track is not None:
        response_headers["zuora-track-id"] = track if echo == "same" else echo
    path = f"/v1/journal-runs/{number}" if number else "/v1/journal-runs"
    return Observation(
        index=index,
        pass_name="main",
        phase="stateful",
        operation_id=operation_id,
        method=method,
        url=f"http://127.0.0.1:1{path}?token={TOKEN}",
        path_parameters={"jr-number": number} if number else {},
        request_headers=request_headers,
        request_body=None,
        status=status,
        response_headers=response_headers,
        response_body=json.dumps(body).encode() if body is not None else b"",
    )


def error(code: str = "50000040", message: str = "Not found.") -> dict[str, Any]:
    return {
        "success": False,
        "processId": "3F7EA3FD706C7E7C",
        "reasons": [{"code": code, "message": message}],
    }


def failed(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.check_id, f.requirement_id) for f in findings if not f.passed}


def judge(rules: Rules, observation: Observation) -> list[Finding]:
    return list(rules.judge(observation))


# -- every ID named exists --------------------------------------------------------------------


def test_every_requirement_id_the_fuzz_stage_names_is_in_the_catalogue(
    catalogue: Catalogue,
) -> None:
    named = {rid for check in (*CUSTOM_CHECKS, *BUILTIN_GROUPS) for rid in check.requirement_ids}
    missing = sorted(rid for rid in named if rid not in catalogue.requirements)
    assert not missing, f"unknown requirement IDs: {missing}"
    # And each built-in's requirement belongs to the group that reports it.
    for group in BUILTIN_GROUPS:
        for name in group.builtins:
            assert group_of(name) is group
            for operation in catalogue.operations:
                for is_error in (False, True):
                    rid = requirement_for(name, operation, is_error)
                    assert rid in group.requirement_ids, (name, operation, is_error)


def test_check_ids_are_unique_and_areas_known(catalogue: Catalogue) -> None:
    from conformance._catalogue import AREAS

    ids = [check.id for check in (*CUSTOM_CHECKS, *BUILTIN_GROUPS)]
    assert len(ids) == len(set(ids))
    assert all(check.area in AREAS for check in (*CUSTOM_CHECKS, *BUILTIN_GROUPS))


def test_disabled_builtins_are_explained_and_not_reported() -> None:
    assert {"ensure_resource_availability", "use_after_free", "positive_data_acceptance"} <= set(
        DISABLED
    )
    for name, why in {**DISABLED, **DISABLED_IN_LEGACY}.items():
        assert len(why) > 40, name
    for name in DISABLED:
        assert group_of(name) is None


# -- stateless rules --------------------------------------------------------------------------


def test_a_conforming_error_and_success_pass_everything() -> None:
    rules = Rules()
    findings = judge(rules, obs("GET_JournalRun", "GET", 404, error(), number="JR-00000009"))
    findings += judge(
        rules,
        obs("POST_JournalRun", "POST", 200, {"journalRunNumber": "JR-00000001", "success": True}),
    )
    assert findings and not failed(findings)
    assert {f.check_id for f in findings} >= {
        "fuzz.error-envelope",
        "fuzz.error-status",
        "fuzz.track-id-echo",
        "fuzz.request-id",
        "fuzz.number-format",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"success": False, "processId": 7, "reasons": [{"code": "50000040", "message": "x"}]},
            "JR-ERRORS-003",
        ),
        ({"success": False, "processId": "P"}, "JR-ERRORS-002"),
        ({"success": False, "processId": "P", "reasons": []}, "JR-ERRORS-002"),
        (
            {"success": False, "processId": "P", "reasons": [{"code": "5000040", "message": "x"}]},
            "JR-ERRORS-004",
        ),
        ({"processId": "P", "reasons": [{"code": "50000040", "message": "x"}]}, "JR-ERRORS-001"),
        ("not an object", "JR-ERRORS-001"),
    ],
)
def test_envelope_violations(body: Any, expected: str) -> None:
    findings = judge(Rules(), obs("GET_JournalRun", "GET", 404, body, number="JR-00000009"))
    assert ("fuzz.error-envelope", expected) in failed(findings)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        # JR-ERRORS-003's decision: a failure may omit processId
        (404, {"success": False, "reasons": [{"code": "50000040", "message": "x"}]}),
        # JR-AUTH-002's decision: a 401 may come from a gateway, with a body of any shape
        (401, {"message": "Authentication error"}),
        (401, "Unauthorized"),
    ],
)
def test_envelope_readings_the_decisions_allow(status: int, body: Any) -> None:
    findings = judge(Rules(), obs("GET_JournalRun", "GET", status, body, number="JR-00000009"))
    assert not {f for f in failed(findings) if f[0] == "fuzz.error-envelope"}


def test_a_500_may_carry_only_reasons_with_a_word_code() -> None:
    body = {"reasons": [{"code": "SystemError", "message": "boom"}]}
    findings = judge(Rules(), obs("GET_JournalRun", "GET", 500, body, number="JR-00000009"))
    assert not failed(findings)
    findings = judge(Rules(), obs("GET_JournalRun", "GET", 500, {}, number="JR-00000009"))
    assert ("fuzz.error-envelope", "JR-ERRORS-007") in failed(findings)


def test_a_success_carries_no_reasons() -> None:
    body = {"success": True, "reasons": [{"code": "1", "message": "?"}]}
    findings = judge(Rules(), obs("PUT_JournalRun", "PUT", 200, body, number="JR-00000009"))
    assert ("fuzz.error-envelope", "JR-ERRORS-002") in failed(findings)


def test_status_follows_the_category_under_the_modern_version() -> None:
    # modern-errors-as-200: an error with HTTP 200 under 2024-05-20
    findings = judge(Rules(), obs("GET_JournalRun", "GET", 200, error(), number="JR-00000009"))
    assert ("fuzz.error-status", "JR-VERSIONS-003") in failed(findings)
    # the wrong 4xx for the category
    findings = judge(Rules(), obs("GET_JournalRun", "GET", 400, error(), number="JR-00000009"))
    assert ("fuzz.error-status", "JR-VERSIONS-003") in failed(findings)


def test_legacy_errors_are_http_200() -> None:
    legacy = "341.0"
    ok = judge(Rules(), obs("GET_JournalRun", "GET", 200, error(), number="JR-1", version=legacy))
    assert not failed(ok)
    bad = judge(Rules(), obs("GET_JournalRun", "GET", 404, error(), number="JR-1", version=legacy))
    assert ("fuzz.error-status", "JR-VERSIONS-001") in failed(bad)
    # 401 for authentication is answered whatever the version
    auth = judge(
        Rules(), obs("GET_JournalRun", "GET", 401, error("50000011"), number="JR-1", version=legacy)
    )
    assert not failed(auth)


def test_without_a_version_the_status_is_not_judged() -> None:
    findings = judge(Rules(), obs("GET_JournalRun", "GET", 200, error(), number="J", version=None))
    assert not any(
        f.check_id == "fuzz.error-status" and "VERSIONS" in f.requirement_id for f in findings
    )


def test_unknown_category() -> None:
    findings = judge(Rules(), obs("GET_JournalRun", "GET", 400, error("50000077"), number="J"))
    assert ("fuzz.error-status", "JR-ERRORS-005") in failed(findings)


def test_track_id_must_come_back_unchanged_and_request_id_be_present() -> None:
    findings = judge(
        Rules(),
        obs("GET_JournalRun", "GET", 404, error(), number="J", echo="other", request_id="short"),
    )
    assert {("fuzz.track-id-echo", "JR-HEADERS-001"), ("fuzz.request-id", "JR-HEADERS-007")} <= (
        failed(findings)
    )


def test_number_formats() -> None:
    bad = judge(
        Rules(), obs("POST_JournalRun", "POST", 200, {"journalRunNumber": "JR-1", "success": True})
    )
    assert ("fuzz.number-format", "JR-CREATE-002") in failed(bad)
    other = {"number": "JR-00000002", "status": "Completed", "success": True}
    wrong = judge(Rules(), obs("GET_JournalRun", "GET", 200, other, number="JR-00000001"))
    assert ("fuzz.number-format", "JR-RETRIEVE-002") in failed(wrong)


# -- the lifecycle model ----------------------------------------------------------------------


def created(rules: Rules, number: str = "JR-00000001") -> None:
    body = {"journalRunNumber": number, "success": True}
    assert not failed(judge(rules, obs("POST_JournalRun", "POST", 200, body)))


def retrieved(rules: Rules, status: str, number: str = "JR-00000001") -> list[Finding]:
    body = {"number": number, "status": status, "success": True}
    return judge(rules, obs("GET_JournalRun", "GET", 200, body, number=number))


def test_asynchronous_creation_is_not_a_failure() -> None:
    rules = Rules()
    created(rules)
    for status in ("Pending", "Processing", "Completed"):
        assert not failed(retrieved(rules, status))


def test_going_back_is_a_lifecycle_failure() -> None:
    rules = Rules()
    created(rules)
    assert not failed(retrieved(rules, "Completed"))
    assert ("fuzz.lifecycle", "JR-RETRIEVE-006") in failed(retrieved(rules, "Processing"))


def test_an_unknown_status_spelling() -> None:
    rules = Rules()
    created(rules)
    assert ("fuzz.lifecycle", "JR-RETRIEVE-003") in failed(retrieved(rules, "CancelInProgress"))


def test_delete_accepted_from_completed_is_a_failure() -> None:
    rules = Rules()
    created(rules)
    retrieved(rules, "Completed")
    deleted = judge(
        rules, obs("DELETE_JournalRun", "DELETE", 200, {"success": True}, number="JR-00000001")
    )
    assert ("fuzz.delete-rule", "JR-DELETE-002") in failed(deleted)


def test_delete_accepted_right_after_create_is_a_failure_too() -> None:
    rules = Rules()
    created(rules)  # Pending, Processing, Completed or Error: never Cancelled without a cancel
    deleted = judge(
        rules, obs("DELETE_JournalRun", "DELETE", 200, {"success": True}, number="JR-00000001")
    )
    assert ("fuzz.delete-rule", "JR-DELETE-002") in failed(deleted)


def test_cancel_then_delete_then_gone() -> None:
    rules = Rules()
    created(rules)
    number = "JR-00000001"
    cancel = obs("PUT_JournalRun", "PUT", 200, {"success": True}, number=number)
    assert not failed(judge(rules, cancel))
    assert not failed(retrieved(rules, "Cancelled"))
    delete = obs("DELETE_JournalRun", "DELETE", 200, {"success": True}, number=number)
    assert not failed(judge(rules, delete))
    assert not failed(retrieved(rules, "DeleteInprogress"))
    gone = judge(rules, obs("GET_JournalRun", "GET", 404, error(), number=number))
    assert ("fuzz.resource-availability", "JR-DELETE-003") in {
        (f.check_id, f.requirement_id) for f in gone if f.passed
    }


def test_what_the_fuzzer_left_behind() -> None:
    rules = Rules()
    created(rules, "JR-00000001")
    created(rules, "JR-00000002")
    retrieved(rules, "Completed", "JR-00000002")
    judge(rules, obs("PUT_JournalRun", "PUT", 200, {"success": True}, number="JR-00000001"))
    judge(rules, obs("DELETE_JournalRun", "DELETE", 200, {"success": True}, number="JR-00000001"))
    assert rules.left_behind() == {"JR-00000002": "Completed"}


def test_after_an_accepted_delete_the_run_does_not_come_back() -> None:
    rules = Rules()
    created(rules)
    judge(rules, obs("PUT_JournalRun", "PUT", 200, {"success": True}, number="JR-00000001"))
    retrieved(rules, "Cancelled")
    judge(rules, obs("DELETE_JournalRun", "DELETE", 200, {"success": True}, number="JR-00000001"))
    assert ("fuzz.resource-availability", "JR-DELETE-003") in failed(retrieved(rules, "Cancelled"))


def test_a_created_run_that_is_not_found_is_a_failure() -> None:
    rules = Rules()
    created(rules)
    findings = judge(rules, obs("GET_JournalRun", "GET", 404, error(), number="JR-00000001"))
    assert ("fuzz.resource-availability", "JR-RETRIEVE-001") in failed(findings)


def test_after_a_cancel_the_run_does_not_resume_processing() -> None:
    rules = Rules()
    created(rules)
    judge(rules, obs("PUT_JournalRun", "PUT", 200, {"success": True}, number="JR-00000001"))
    assert ("fuzz.lifecycle", "JR-CANCEL-004") in failed(retrieved(rules, "Processing"))


def test_cancel_rules() -> None:
    rules = Rules()
    created(rules)
    retrieved(rules, "Completed")
    refused = obs("PUT_JournalRun", "PUT", 400, error("50000030"), number="JR-00000001")
    assert ("fuzz.cancel-rule", "JR-CANCEL-001") in failed(judge(rules, refused))
    # Accepted while certainly Cancelled: outside the cancellable statuses.
    judge(rules, obs("PUT_JournalRun", "PUT", 200, {"success": True}, number="JR-00000001"))
    retrieved(rules, "Cancelled")
    again = obs("PUT_JournalRun", "PUT", 200, {"success": True}, number="JR-00000001")
    assert ("fuzz.cancel-rule", "JR-CANCEL-002") in failed(judge(rules, again))


def test_a_refusal_for_the_request_itself_says_nothing_about_the_state() -> None:
    rules = Rules()
    created(rules)
    retrieved(rules, "Completed")
    malformed = obs("PUT_JournalRun", "PUT", 400, error("50000020"), number="JR-00000001")
    assert not any(f.check_id == "fuzz.cancel-rule" for f in judge(rules, malformed))


def test_runs_the_fuzzer_did_not_create_are_not_modelled() -> None:
    findings = retrieved(Rules(), "Completed", number="JR-00000042")
    assert {f.check_id for f in findings} == {
        "fuzz.error-envelope",
        "fuzz.error-status",  # a success is HTTP 200
        "fuzz.track-id-echo",
        "fuzz.request-id",
        "fuzz.number-format",
        "fuzz.lifecycle",  # the spelling of the status, nothing about moves
    }


# -- tallies into CheckResults ----------------------------------------------------------------


def test_a_check_that_judged_nothing_is_an_error() -> None:
    result = Tally(CUSTOM_CHECKS[0]).result(Redactor([TOKEN]))
    assert result.status is Status.ERROR
    assert "asserted nothing" in result.message


def test_a_tally_judged_elsewhere_adds_its_counts_and_keeps_evidence_within_the_cap() -> None:
    import pickle

    from conformance.fuzz._tally import MAX_EXAMPLES_PER_REQUIREMENT

    check = CUSTOM_CHECKS[0]
    sample = obs("GET_JournalRun", "GET", 200, {"success": True}, number="JR-00000009")
    here, there = Tally(check), Tally(check)
    here.listener = lambda *verdict: None  # this process's: it does not travel
    here.add("R-1", True, sample, description="fine")
    here.add("R-1", False, sample, description="same", actual=1)
    there.add("R-1", False, sample, description="same", actual=1)  # the same violation
    for n in range(MAX_EXAMPLES_PER_REQUIREMENT + 1):
        there.add("R-1", False, sample, description="other", actual=n)
    there.add("R-2", True, sample, description="fine")
    here.merge(pickle.loads(pickle.dumps(there)))
    assert pickle.loads(pickle.dumps(here)).listener is None
    result = here.result(Redactor([TOKEN]))
    summary = {a.requirement_ids[0]: a.actual for a in result.assertions if a.exchange is None}
    assert summary == {
        "R-1": f"{MAX_EXAMPLES_PER_REQUIREMENT + 3} of {MAX_EXAMPLES_PER_REQUIREMENT + 4} "
        "answers violated it",
        "R-2": "0 of 1 answers violated it",
    }
    kept = [a for a in result.assertions if a.exchange is not None]
    assert len(kept) == MAX_EXAMPLES_PER_REQUIREMENT
    # This tally's first, the same violation once, then the other tally's up to the cap.
    assert [a.description for a in kept] == ["same"] + ["other"] * (len(kept) - 1)
    assert [a.actual for a in kept[1:]] == list(range(len(kept) - 1))


def test_a_judge_absorbs_what_another_judged_numbers_left_alone_included() -> None:
    from conformance.fuzz._judge import Judge

    here, there = Judge(Redactor(), TOKEN, None), Judge(Redactor(), TOKEN, None)
    here.guarded, there.guarded = ["JR-00000003"], ["JR-00000001", "JR-00000003"]
    sample = obs("GET_JournalRun", "GET", 200, {"success": True}, number="JR-00000009")
    for judge in (here, there):
        judge.sent.append(Sent("GET", "/v1/journal-runs/JR-00000009", None))
        judge.authenticated += 1
        judge.tallies[CUSTOM_CHECKS[0].id].add("R-1", True, sample, description="fine")
    here.absorb(there.judgement())
    assert here.guarded == ["JR-00000001", "JR-00000003"]
    assert len(here.sent) == 2 and here.authenticated == 2
    assert here.tallies[CUSTOM_CHECKS[0].id].checked == 2
    engine = here.results(0.0)[-1]
    assert "left alone, as existing and not created by this run: JR-00000001, JR-00000003" in (
        engine.assertions[0].message
    )


def test_failures_keep_redacted_evidence_and_a_curl() -> None:
    rules = Rules()
    tally = {check.id: Tally(check) for check in CUSTOM_CHECKS}
    sample = obs("GET_JournalRun", "GET", 200, error(), number="JR-00000009")
    for finding in rules.judge(sample):
        tally[finding.check_id].add(
            finding.requirement_id,
            finding.passed,
            sample,
            description=finding.description,
            expected=finding.expected,
            actual=finding.actual,
        )
    result = tally["fuzz.error-status"].result(Redactor([TOKEN]))
    assert result.status is Status.FAIL
    bad = result.failed_assertions
    assert {a.requirement_ids for a in bad} == {("JR-VERSIONS-003",)}
    example = next(a for a in bad if a.exchange is not None)
    assert "Reproduce: curl" in example.message
    assert example.exchange is not None
    assert result.evidence[example.exchange].status_code == 200
    text = json.dumps(asdict(result))
    assert TOKEN not in text
    assert "[REDACTED]" in text


# -- options and spec preparation -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_examples": 0},
        {"seed": -1},
        {"phases": ("nonsense",)},
        {"max_time_s": 0},
        {"max_steps": 1},
        {"legacy_examples": -1},
    ],
)
def test_bad_options_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        FuzzOptions(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "ftp://example.com"},
        {"base_url": "http://127.0.0.1:1?x=1"},
        {"base_url": "http://127.0.0.1:1", "headers": {"Authorization": "Bearer a\nb"}},
        {"base_url": "http://127.0.0.1:1", "run_id": "has space"},
    ],
)
def test_bad_targets_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        FuzzTarget(**kwargs)


def test_the_token_is_not_in_the_target_repr() -> None:
    target = FuzzTarget("http://127.0.0.1:1/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert TOKEN not in repr(target)
    assert target.token == TOKEN
    assert target.base_url == "http://127.0.0.1:1"


def test_the_suite_sets_its_own_headers(catalogue: Catalogue) -> None:
    prepared = prepare_spec(catalogue.spec)
    components = prepared["components"]["parameters"]
    for path_item in prepared["paths"].values():
        for operation in path_item.values():
            names = {
                components[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
                for p in operation.get("parameters", [])
            }
            assert not names & {"Zuora-Version", "Zuora-Track-Id", "Idempotency-Key"}
    # the catalogue's own spec is left alone
    assert catalogue.spec is not prepared
    create = catalogue.spec["paths"]["/v1/journal-runs"]["post"]["parameters"]
    assert any("ZuoraVersion" in p.get("$ref", "") for p in create)


def test_the_fuzzer_leaves_out_the_bounds_whose_outside_is_undecided(
    catalogue: Catalogue,
) -> None:
    """pageSize 301, page 0 and notes of 2001 characters may be clamped or accepted (a SHOULD
    missed, JR-ENTRIES-004, -014): schemathesis must not send them as negative data, which it
    would blame on JR-ERRORS-009, a MUST. The catalogue's spec keeps them (the scenarios)."""
    prepared = prepare_spec(catalogue.spec)
    for pointer, keywords in UNDECIDED_BOUNDS.items():
        original: Any = catalogue.spec
        copied: Any = prepared
        for part in pointer.strip("/").split("/"):
            original, copied = original[part], copied[part]
        for keyword in keywords:
            assert keyword in original, (pointer, keyword)  # the spec still says it
            assert keyword not in copied, (pointer, keyword)
    # bounds whose outside the sources decide stay (an empty transactionTypes is refused)
    run = prepared["components"]["schemas"]["POSTJournalRunType"]["properties"]
    assert run["transactionTypes"]["minItems"] == 1


def test_an_accepted_cancel_or_delete_answers_200_not_204() -> None:
    rules = Rules()
    created(rules)
    cancel = obs("PUT_JournalRun", "PUT", 204, None, number="JR-00000001")
    assert ("fuzz.cancel-rule", "JR-CANCEL-001") in failed(judge(rules, cancel))
    # ... and it still counts as accepted: the run may now be cancelled.
    assert not failed(retrieved(rules, "Cancelled"))
    delete = obs("DELETE_JournalRun", "DELETE", 204, None, number="JR-00000001")
    assert ("fuzz.delete-rule", "JR-DELETE-001") in failed(judge(rules, delete))


def test_a_success_is_http_200_and_an_auth_failure_category_11() -> None:
    body = {"journalRunNumber": "JR-00000001", "success": True}
    created_201 = judge(Rules(), obs("POST_JournalRun", "POST", 201, body))
    assert ("fuzz.error-status", "JR-VERSIONS-005") in failed(created_201)
    wrong_category = judge(
        Rules(), obs("GET_JournalRun", "GET", 401, error("50000010"), number="J")
    )
    assert ("fuzz.error-status", "JR-AUTH-002") in failed(wrong_category)


def test_a_deleted_run_read_back_with_an_unknown_status() -> None:
    rules = Rules()
    created(rules)
    judge(rules, obs("PUT_JournalRun", "PUT", 200, {"success": True}, number="JR-00000001"))
    judge(rules, obs("DELETE_JournalRun", "DELETE", 200, {"success": True}, number="JR-00000001"))
    findings = failed(retrieved(rules, "Deleted"))
    assert {
        ("fuzz.lifecycle", "JR-RETRIEVE-003"),
        ("fuzz.resource-availability", "JR-DELETE-003"),
    } <= (findings)


def test_only_the_fuzzers_own_tenant_is_modelled() -> None:
    rules = Rules(identity=f"Bearer {TOKEN}")
    created(rules)
    anonymous = obs("DELETE_JournalRun", "DELETE", 200, {"success": True}, number="JR-00000001")
    anonymous = dataclasses.replace(anonymous, request_headers={})
    assert not any(f.check_id == "fuzz.delete-rule" for f in judge(rules, anonymous))
    assert rules.left_behind() == {"JR-00000001": "one of Completed, Error, Pending, Processing"}


@pytest.mark.parametrize(
    ("version", "legacy"),
    [("2024-05-20", False), ("2025-08-12", False), ("341.0", True), ("2023-01-01", True)],
)
def test_the_main_pass_under_a_legacy_version_expects_no_4xx_refusals(
    version: str, legacy: bool
) -> None:
    """Under a legacy Zuora-Version, refusals are HTTP 200: checks expecting a 4xx stay off."""
    from conformance.fuzz import DISABLED_IN_LEGACY, FuzzOptions, FuzzTarget
    from conformance.fuzz._passes import passes

    main = passes(FuzzTarget("http://127.0.0.1:1", zuora_version=version), FuzzOptions())[0]
    assert (set(DISABLED_IN_LEGACY) <= set(main.disabled)) is legacy


# -- the auth check reads the envelope ----------------------------------------------------------

LEGACY_AUTH_REFUSAL = {
    "success": False,
    "processId": "0123456789ABCDEF",
    "reasons": [{"code": 90000011, "message": "Authentication error"}],
}


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [
        (401, None, True),
        (403, {"anything": 1}, True),
        (200, LEGACY_AUTH_REFUSAL, True),
        (200, dict(LEGACY_AUTH_REFUSAL, reasons=[{"code": "90000011", "message": "x"}]), True),
        (200, dict(LEGACY_AUTH_REFUSAL, reasons=[{"code": "50000040", "message": "x"}]), False),
        (200, dict(LEGACY_AUTH_REFUSAL, success=True), False),
        (200, {"success": True, "journalRunNumber": "JR-00000001"}, False),
        (400, LEGACY_AUTH_REFUSAL, False),
    ],
)
def test_an_auth_refusal_is_401_403_or_legacy_category_11(
    status: int, body: Any, refused: bool
) -> None:
    from conformance.fuzz._builtins import is_auth_refusal

    assert is_auth_refusal(status, body) is refused


class _Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self.content = json.dumps(body).encode()


def _auth_probe_world(
    monkeypatch: pytest.MonkeyPatch, first: _Answer, invalid: _Answer
) -> tuple[Any, Any, list[str]]:
    """schemathesis's ignored_auth faked: its probe without credentials ``first`` was read as
    accepted; the probe with invalid credentials answers ``invalid``."""
    from types import SimpleNamespace

    from schemathesis.openapi.checks import AuthScenario, IgnoredAuth

    from conformance.fuzz import _builtins

    sent: list[str] = []

    def ignored_auth(ctx: Any, response: Any, case: Any) -> None:
        raise IgnoredAuth(
            operation="GET /v1/journal-runs/{jr-number}",
            message="Expected 401 or 403, got `200 OK`",
            scenario=AuthScenario.NO_AUTH,
            case_id="probe-1",
        )

    def send_probe(ctx: Any, parent: Any, probe: Any) -> _Answer:
        sent.append("invalid")
        return invalid

    monkeypatch.setattr(_builtins._st_checks, "ignored_auth", ignored_auth)
    monkeypatch.setattr(_builtins, "get_security_parameters", lambda op: ["bearer"])
    probe = SimpleNamespace(id="probe-2", operation=SimpleNamespace(label="GET /run"))
    monkeypatch.setattr(_builtins, "remove_auth", lambda case, params: probe)
    monkeypatch.setattr(_builtins, "set_auth_for_case", lambda case, param: None)
    monkeypatch.setattr(_builtins, "send_probe", send_probe)
    answers = {"probe-1": first}
    ctx = SimpleNamespace(
        internals=SimpleNamespace(find_response=lambda case_id: answers.get(case_id)),
        auth_enforced_operations=set(),
    )
    case = SimpleNamespace(id="case-1", operation=SimpleNamespace(label="GET /run"))
    return ctx, case, sent


def test_the_auth_check_accepts_a_legacy_category_11_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under Zuora-Version 341.0 a request without credentials may be answered HTTP 200,
    success false, category 11: JR-AUTH-001 accepts it, so the check does too, and goes on to
    the probe with invalid credentials."""
    from conformance.fuzz._builtins import ignored_auth_envelope

    refusal = _Answer(200, LEGACY_AUTH_REFUSAL)
    ctx, case, sent = _auth_probe_world(monkeypatch, refusal, refusal)
    assert ignored_auth_envelope(ctx, _Answer(200, RUN_BODY), case) is None
    assert sent == ["invalid"] and ctx.auth_enforced_operations == {"GET /run"}


def test_the_auth_check_still_fails_an_accepted_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from schemathesis.openapi.checks import IgnoredAuth

    from conformance.fuzz._builtins import ignored_auth_envelope

    refusal = _Answer(200, LEGACY_AUTH_REFUSAL)
    accepted = _Answer(200, RUN_BODY)
    ctx, case, sent = _auth_probe_world(monkeypatch, accepted, refusal)
    with pytest.raises(IgnoredAuth):  # no credentials, and the run came back
        ignored_auth_envelope(ctx, accepted, case)
    assert sent == []
    ctx, case, sent = _auth_probe_world(monkeypatch, refusal, accepted)
    with pytest.raises(IgnoredAuth, match="invalid credentials"):  # an invalid token accepted
        ignored_auth_envelope(ctx, accepted, case)


RUN_BODY = {"success": True, "number": "JR-00000001", "status": "Completed"}


def test_the_method_check_accepts_not_found_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """JR-ERRORS-010's decision accepts 404 for a path and method the API does not offer."""
    from schemathesis.openapi.checks import UnsupportedMethodResponse

    from conformance.fuzz import _builtins

    def failing(status: int, reason: str = "wrong_status") -> Any:
        def check(ctx: Any, response: Any, case: Any) -> None:
            raise UnsupportedMethodResponse(
                operation="GET /run",
                method="TRACE",
                status_code=status,
                failure_reason=reason,
                message="wrong",
            )

        return check

    monkeypatch.setattr(_builtins._st_checks, "unsupported_method", failing(404))
    assert _builtins.unsupported_method_or_not_found(None, None, None) is None
    for status, reason in ((200, "wrong_status"), (405, "missing_allow_header")):
        monkeypatch.setattr(_builtins._st_checks, "unsupported_method", failing(status, reason))
        with pytest.raises(UnsupportedMethodResponse):
            _builtins.unsupported_method_or_not_found(None, None, None)


def test_transient_answers_are_counted_and_judged_by_no_check() -> None:
    from conformance.fuzz._judge import Judge as _Judge

    judge = _Judge(Redactor(), TOKEN, None)
    gateway = dataclasses.replace(
        obs("GET_JournalRun", "GET", 502, None, number="JR-00000001"),
        response_headers={"content-type": "text/html"},
        response_body=b"<html>Bad Gateway</html>",
    )
    busy = obs("GET_JournalRun", "GET", 500, error("50000061", "try later"), number="JR-00000001")
    broken = obs("GET_JournalRun", "GET", 500, error("50000060", "boom"), number="JR-00000001")
    for observation in (gateway, busy):
        judge._judge(observation)
    assert judge.unavailable == 2
    assert all(tally.checked == 0 for tally in judge.tallies.values())
    judge._judge(broken)  # a 500 of the server's own is judged as usual
    assert judge.unavailable == 2 and any(t.checked for t in judge.tallies.values())
    engine = judge.results(0.0)[-1]
    assert engine.status is Status.PASS
    assert "2 answer(s) were transient" in engine.assertions[0].message
