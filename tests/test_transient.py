"""Transient answers (502/503/504, 500 category 61) to safe requests are retried."""

from __future__ import annotations

import httpx
import pytest

from conformance._exceptions import TargetUnavailable
from conformance._http import HttpSettings, Request, Session, safe_to_retry


def _session(answers: list[tuple[int, bytes]]) -> tuple[Session, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        status, body = answers.pop(0) if answers else (200, b'{"success": true}')
        return httpx.Response(status, stream=httpx.ByteStream(body))

    settings = HttpSettings(base_url="http://127.0.0.1:9")
    return Session(settings, transport=httpx.MockTransport(handler), sleep=lambda _s: None), seen


def test_get_503_then_200_is_retried_once() -> None:
    session, seen = _session([(503, b"<html>busy</html>")])
    response = session.do(Request(method="GET", path="/v1/journal-runs/JR-00000001"))
    assert response.status_code == 200
    assert session.retries == 1
    assert seen == ["GET", "GET"]


def test_post_without_idempotency_key_is_not_retried() -> None:
    session, seen = _session([(502, b"")])
    with pytest.raises(TargetUnavailable):
        session.do(Request(method="POST", path="/v1/journal-runs", json={}))
    assert session.retries == 0
    assert seen == ["POST"]


def test_post_with_idempotency_key_is_retried() -> None:
    session, _ = _session([(504, b"")])
    request = Request(
        method="POST", path="/v1/journal-runs", json={}, headers={"Idempotency-Key": "k1"}
    )
    assert session.do(request).status_code == 200
    assert session.retries == 1


def test_500_category_61_is_retried_but_60_is_not() -> None:
    body61 = b'{"success": false, "reasons": [{"code": 50000061, "message": "try later"}]}'
    session, _ = _session([(500, body61)])
    assert session.do(Request(method="GET", path="/x")).status_code == 200
    assert session.retries == 1
    body60 = b'{"success": false, "reasons": [{"code": "50000060", "message": "boom"}]}'
    session, _ = _session([(500, body60)])
    assert session.do(Request(method="GET", path="/x")).status_code == 500  # judged as it is
    assert session.retries == 0


def test_retries_stop_after_the_limit() -> None:
    session, seen = _session([(503, b"")] * 10)
    with pytest.raises(TargetUnavailable):
        session.do(Request(method="DELETE", path="/x"))
    assert session.retries == 3
    assert len(seen) == 4


def test_policy_helpers() -> None:
    assert safe_to_retry(Request(method="PUT", path="/v1/journal-runs/JR-1/cancel"))
    assert not safe_to_retry(
        Request(method="PUT", path="/v1/journal-entries/JE-1/basic-information")
    )


def test_an_answer_that_stays_transient_raises_target_unavailable() -> None:
    session, seen = _session([(503, b"<html>busy</html>")] * 10)
    with pytest.raises(TargetUnavailable, match=r"HTTP 503 .* GET /x, after 3 retries"):
        session.do(Request(method="GET", path="/x"))
    assert len(seen) == 4


def test_a_transient_answer_to_an_unsafe_request_is_not_retried_and_not_judged() -> None:
    session, seen = _session([(502, b"")])
    with pytest.raises(TargetUnavailable, match="not retried: repeating this request"):
        session.do(Request(method="POST", path="/v1/journal-runs", json={}))
    assert seen == ["POST"]
