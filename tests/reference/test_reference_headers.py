"""Headers on the reference: request and track ids, gzip both ways, rate limits, idempotency."""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from _wait import wait_until
from reference_support import MODERN, NOV_2014, Tenant, category, reason_code

from conformance.reference import ReferenceServer

# --- Zuora-Request-Id, Zuora-Track-Id ------------------------------------------------------------


def test_every_answer_has_a_fresh_request_id(tenant: Tenant) -> None:
    answers = [
        tenant.http.get("/v1/journal-runs/JR-00000001"),
        tenant.http.post("/v1/journal-runs", json=NOV_2014),
        tenant.http.get("/nowhere"),
        httpx.get(f"{tenant.url}/v1/journal-runs/JR-00000001"),  # unauthenticated
        httpx.post(f"{tenant.url}/oauth/token", data={}),
    ]
    ids = [answer.headers["Zuora-Request-Id"] for answer in answers]
    assert all(len(value) == 36 and uuid.UUID(value).version == 4 for value in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "track_id", ["run-42", "a" * 64, "with space inside", "!#$%&()*+,-./<=>?@[]"]
)
def test_valid_track_ids_are_echoed(tenant: Tenant, track_id: str) -> None:
    response = tenant.http.get("/v1/journal-runs/JR-00000001", headers={"Zuora-Track-Id": track_id})
    assert response.headers["Zuora-Track-Id"] == track_id
    assert category(response) == 40  # and the request was served


def test_no_track_id_no_echo(tenant: Tenant) -> None:
    assert "Zuora-Track-Id" not in tenant.http.get("/v1/journal-runs/JR-00000001").headers


@pytest.mark.parametrize(
    "track_id", ["a" * 65, "colon:", "semi;", 'quote"', "apos'", "caf\u00e9", "tab\tinside", ""]
)
def test_invalid_track_ids_are_refused_and_not_echoed(tenant: Tenant, track_id: str) -> None:
    headers = {**MODERN, "Zuora-Track-Id": track_id}
    response = tenant.http.post(
        "/v1/journal-runs",
        content=json.dumps(NOV_2014).encode(),
        headers={k: v.encode("latin-1") for k, v in headers.items()},  # type: ignore[misc]
    )
    assert "Zuora-Track-Id" not in response.headers
    assert (response.status_code, reason_code(response)) == (400, "53010020")
    assert tenant.run("JR-00000001")["success"] is False


# --- gzip ----------------------------------------------------------------------------------------


def test_large_answers_are_gzipped_only_when_asked(tenant: Tenant) -> None:
    number = tenant.completed_run()
    path = f"/v1/journal-entries/journal-runs/{number}"

    def raw_get(accept_encoding: str) -> tuple[httpx.Headers, bytes]:
        headers = httpx.Headers(tenant.http.headers)
        headers["Accept-Encoding"] = accept_encoding
        with httpx.stream("GET", tenant.url + path, headers=headers) as response:
            return response.headers, b"".join(response.iter_raw())  # undecoded bytes

    headers, raw = raw_get("gzip")
    assert headers["Content-Encoding"] == "gzip"
    plain = gzip.decompress(raw)
    assert len(plain) > 1000 and json.loads(plain)["success"] is True
    headers, raw = raw_get("identity")
    assert "Content-Encoding" not in headers
    assert json.loads(raw) == json.loads(plain)


def test_small_answers_are_not_gzipped(tenant: Tenant) -> None:
    response = tenant.http.get("/v1/journal-runs/JR-00000001", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


def test_gzip_request_bodies_are_accepted(tenant: Tenant) -> None:
    response = tenant.http.post(
        "/v1/journal-runs",
        content=gzip.compress(json.dumps(NOV_2014).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.json() == {"journalRunNumber": "JR-00000001", "success": True}


def test_gzip_bombs_and_huge_bodies_are_refused(tenant: Tenant) -> None:
    bomb = gzip.compress(b"{" + b" " * (5 << 20) + b"}")
    assert len(bomb) < 10_000
    response = tenant.http.post(
        "/v1/journal-runs", content=bomb, headers={**MODERN, "Content-Encoding": "gzip"}
    )
    assert (response.status_code, category(response)) == (400, 90)
    truncated = gzip.compress(json.dumps(NOV_2014).encode())[:-12]
    response = tenant.http.post(
        "/v1/journal-runs", content=truncated, headers={"Content-Encoding": "gzip"}
    )
    assert category(response) == 90
    huge = tenant.http.post("/v1/journal-runs", content=b" " * (2 << 20), headers=MODERN)
    assert (huge.status_code, category(huge)) == (400, 90)


# --- rate limits ----------------------------------------------------------------------------------


def test_rate_limit_headers_count_down(tenant: Tenant) -> None:
    first = tenant.http.get("/v1/journal-runs/JR-00000001")
    second = tenant.http.get("/v1/journal-runs/JR-00000001")
    assert first.headers["RateLimit-Limit"] == "10000"
    assert (
        int(second.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
    )
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 60


def test_concurrency_headers_report_requests_in_flight(tenant: Tenant) -> None:
    headers = tenant.http.get("/v1/journal-runs/JR-00000001").headers
    assert headers["Concurrency-Limit-Type"] == "Default"
    assert (headers["Concurrency-Limit-Limit"], headers["Concurrency-Limit-Remaining"]) == (
        "40",
        "39",
    )


def test_over_the_limit_is_429_with_retry_after_in_every_style(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    server = make_server(rate_limit=3, rate_window=30)
    tenant = make_tenant(server)
    for _ in range(3):
        assert tenant.http.get("/v1/journal-runs/JR-00000001").status_code == 200
    limited = tenant.http.get("/v1/journal-runs/JR-00000001")
    assert limited.status_code == 429
    assert (reason_code(limited), limited.headers["RateLimit-Remaining"]) == ("50000070", "0")
    assert 0 < int(limited.headers["Retry-After"]) <= 30
    # limits are per tenant
    other = make_tenant(server)
    assert other.http.get("/v1/journal-runs/JR-00000001").status_code == 200


def test_the_window_restarts(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(rate_limit=1, rate_window=0.3))
    assert tenant.http.get("/v1/journal-runs/JR-00000001").status_code == 200
    assert tenant.http.get("/v1/journal-runs/JR-00000001").status_code == 429
    wait_until(
        lambda: tenant.http.get("/v1/journal-runs/JR-00000001").status_code != 429,
        5,
        0.05,
        "the rate window never restarted",
    )


# --- Idempotency-Key ------------------------------------------------------------------------------


def test_a_repeat_replays_the_first_answer_and_creates_nothing(tenant: Tenant) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4()), "Zuora-Track-Id": "first"}
    first = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
    again = tenant.http.post(
        "/v1/journal-runs", json=NOV_2014, headers={**key, "Zuora-Track-Id": "second"}
    )
    assert first.content == again.content
    assert first.status_code == again.status_code == 200
    assert first.headers["Content-Type"] == again.headers["Content-Type"]
    assert first.headers["Zuora-Request-Id"] != again.headers["Zuora-Request-Id"]
    assert again.headers["Zuora-Track-Id"] == "second"
    assert tenant.run("JR-00000002")["success"] is False  # only one run exists
    # a different body with the same key is not documented: the first answer is replayed
    other = tenant.http.post("/v1/journal-runs", json={}, headers=key)
    assert other.content == first.content


def test_failures_are_replayed_too(tenant: Tenant) -> None:
    key = {"Idempotency-Key": "bad-create", **MODERN}
    first = tenant.http.post("/v1/journal-runs", json={}, headers=key)
    assert first.status_code == 400
    again = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
    assert (again.status_code, again.content) == (400, first.content)


def test_a_key_reused_elsewhere_is_422(tenant: Tenant, server: ReferenceServer) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key).status_code == 200
    other_path = tenant.http.post("/v1/journal-entries", json={}, headers=key)
    assert (other_path.status_code, category(other_path)) == (422, 20)
    other_tenant = Tenant(server.url)
    try:
        response = other_tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
        assert response.status_code == 422
    finally:
        other_tenant.close()


def test_keys_longer_than_255_are_refused(tenant: Tenant) -> None:
    response = tenant.http.post(
        "/v1/journal-runs", json=NOV_2014, headers={**MODERN, "Idempotency-Key": "k" * 256}
    )
    assert (response.status_code, reason_code(response)) == (400, "53010020")
    ok = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers={"Idempotency-Key": "k" * 255})
    assert ok.json()["success"] is True


def test_keys_on_other_methods_are_ignored(tenant: Tenant) -> None:
    number = tenant.completed_run()
    key = {"Idempotency-Key": "on-a-get"}
    assert tenant.http.get(f"/v1/journal-runs/{number}", headers=key).json()["success"]
    assert tenant.http.put(f"/v1/journal-runs/{number}/cancel", headers=key).json()["success"]


def test_a_repeat_while_the_first_is_in_progress_is_409(tenant: Tenant) -> None:
    """The first request's body arrives slowly; a repeat meanwhile is 409, then replays."""
    key = {"Idempotency-Key": str(uuid.uuid4())}
    started = threading.Event()
    release = threading.Event()
    answers: list[httpx.Response] = []

    def slow_body() -> Iterator[bytes]:
        started.set()
        yield b'{"accountingPeriodName": "Nov-2014", '
        release.wait(10)
        yield json.dumps(NOV_2014)[1:].encode()

    def first() -> None:
        with httpx.Client(base_url=tenant.url, headers=tenant.http.headers, timeout=10) as client:
            answers.append(client.post("/v1/journal-runs", content=slow_body(), headers=key))

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(5)

        # the first request's headers may take a moment to be read
        def refused() -> httpx.Response | None:
            answer = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
            return answer if answer.status_code == 409 else None

        repeat = wait_until(refused, 5, message="the repeat was never refused as in progress")
        assert category(repeat) == 50
    finally:
        release.set()
        thread.join(10)
    assert answers[0].json() == {"journalRunNumber": "JR-00000001", "success": True}
    replay = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
    assert replay.content == answers[0].content
