"""The HTTP session against servers that misbehave on purpose.

Every test bounds the wall time of what it calls; the cap tests also bound what the server got to
send and what Python allocated; every failure message is checked for being one readable line
without a secret.
"""

from __future__ import annotations

import gzip
import json
import shutil
import ssl
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from _servers import CLIENT_ID, CLIENT_SECRET, MisbehavingServer, unused_port

from conformance._exceptions import SetupError, TransportError
from conformance._http import (
    BearerToken,
    ClientCredentials,
    HttpSettings,
    Pacer,
    Request,
    Session,
    track_id,
)
from conformance._http._pacing import _retry_after
from conformance._redact import REDACTED, Redactor, truncate
from conformance._results import CheckResult

TOKEN = "static-Bearer-token-9f8e7d6c5b4a"
MiB = 2**20


@pytest.fixture
def server() -> Iterator[MisbehavingServer]:
    running = MisbehavingServer().start()
    yield running
    running.stop()


@pytest.fixture
def make_session(server: MisbehavingServer) -> Iterator[Callable[..., Session]]:
    sessions: list[Session] = []

    def make(auth: Any = None, **overrides: Any) -> Session:
        settings = HttpSettings(base_url=server.url, run_id="jrc-test", **overrides)
        session = Session(settings, auth)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


def new_check() -> CheckResult:
    return CheckResult(id="t", title="t", kind="scenario", area="http")


def assert_clean_message(error: BaseException, *secrets: str) -> str:
    message = str(error)
    assert "\n" not in message
    for secret in (TOKEN, CLIENT_SECRET, *secrets):
        assert secret not in message
    return message


def evidence_text(check: CheckResult) -> str:
    return json.dumps([asdict(exchange) for exchange in check.evidence])


def fails_within(seconds: float, call: Callable[[], object]) -> TransportError:
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    return caught.value


# -- what goes out -----------------------------------------------------------------------------


def test_default_headers_and_redacted_evidence(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    session = make_session(BearerToken(TOKEN))
    check = new_check()
    response = session.do(Request("GET", "/echo", params={"page": 2}), check=check, track="s.1")
    sent = response.json()["headers"]
    assert sent["authorization"] == f"Bearer {TOKEN}"
    assert sent["zuora-version"] == "2024-05-20"
    assert sent["zuora-track-id"] == "jrc-test.s.1"
    assert sent["accept-encoding"] == "gzip, deflate"
    assert response.json()["query"] == {"page": ["2"]}
    assert response.exchange_index == 0
    exchange = check.evidence[0]
    assert exchange.request_headers["Authorization"] == "Bearer [REDACTED]"
    assert exchange.status_code == 200 and exchange.url.endswith("/echo?page=2")
    # The echo carries the token back; the evidence must not.
    assert TOKEN not in evidence_text(check)
    assert session.requests_sent == 1


def test_request_headers_override_and_omit_defaults(make_session: Callable[..., Session]) -> None:
    session = make_session(BearerToken(TOKEN))
    headers = {"zuora-version": None, "Zuora-Track-Id": "mine", "Accept": None}
    sent = session.do(Request("GET", "/echo", headers=headers, auth=False)).json()["headers"]
    assert "zuora-version" not in sent
    assert "accept" not in sent
    assert "authorization" not in sent
    assert sent["zuora-track-id"] == "mine"


def test_json_body_gzipped(make_session: Callable[..., Session]) -> None:
    session = make_session()
    request = Request("POST", "/echo", json={"journalEntryDate": "2014-11-04"}, gzip_body=True)
    echoed = session.do(request).json()
    assert echoed["headers"]["content-encoding"] == "gzip"
    assert echoed["headers"]["content-type"] == "application/json"
    body = gzip.decompress(echoed["body"].encode("latin-1"))
    assert json.loads(body) == {"journalEntryDate": "2014-11-04"}


def test_requests_counted_by_stage_across_threads(make_session: Callable[..., Session]) -> None:
    session = make_session()

    def work() -> None:
        for _ in range(5):
            assert session.do(Request("GET", "/ok"), stage="scenarios").status_code == 200

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with session.in_stage("cleanup"):
        session.do(Request("GET", "/ok"))
    assert session.requests_sent == 31
    assert session.count_by_stage == {"scenarios": 30, "cleanup": 1}


def test_track_id_is_sanitised_and_bounded() -> None:
    assert track_id("jrc-1", "scen:a;b\"c'd e\u00e9") == "jrc-1.scen-a-b-c-d-e-"
    long_a = track_id("jrc-1a2b3c4d", "scenario." + "x" * 80 + ".step1")
    long_b = track_id("jrc-1a2b3c4d", "scenario." + "x" * 80 + ".step2")
    assert len(long_a) == len(long_b) == 64
    assert long_a != long_b
    assert long_a.startswith("jrc-1a2b3c4d.scenario.")
    assert all(0x20 < ord(c) < 0x7F and c not in ":;\"'" for c in long_a)


# -- limits against a hostile server -----------------------------------------------------------


def test_slow_server_times_out(make_session: Callable[..., Session]) -> None:
    session = make_session(BearerToken(TOKEN), timeout_s=0.5)
    check = new_check()
    error = fails_within(3.0, lambda: session.do(Request("GET", "/slow"), check=check))
    assert assert_clean_message(error).endswith("/slow: timed out after 0.5 s")
    assert check.evidence[0].error == "timed out after 0.5 s"
    assert check.evidence[0].status_code is None


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers"])
def test_trickling_server_hits_the_overall_deadline(
    make_session: Callable[..., Session], path: str
) -> None:
    # Each byte comes well within any read timeout; only the overall deadline stops this.
    session = make_session(timeout_s=1.0)
    error = fails_within(3.0, lambda: session.do(Request("GET", path)))
    assert str(error) == f"GET {session.url(path)}: timed out after 1.0 s"


def test_connection_closed_mid_body(make_session: Callable[..., Session]) -> None:
    session = make_session()
    error = fails_within(5.0, lambda: session.do(Request("GET", "/close-mid-body")))
    assert "connection closed before the response was complete" in str(error)


def test_connection_refused() -> None:
    settings = HttpSettings(base_url=f"http://127.0.0.1:{unused_port()}", timeout_s=5)
    with Session(settings, BearerToken(TOKEN)) as session:
        error = fails_within(5.0, lambda: session.do(Request("GET", "/v1/journal-runs/JR-1")))
    message = assert_clean_message(error)
    assert message == f"GET {settings.base_url}/v1/journal-runs/JR-1: connection refused"


def test_invalid_json_is_a_readable_error(make_session: Callable[..., Session]) -> None:
    response = make_session().do(Request("GET", "/invalid-json"))
    assert response.status_code == 200
    assert response.json_or_none() is None
    with pytest.raises(TransportError, match=r"^GET .*/invalid-json: body is not JSON: "):
        response.json()


def _peak_allocated(call: Callable[[], object]) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        call()
    except TransportError as exc:
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return None, peak


def test_endless_body_is_cut_at_the_cap(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    cap = 256 * 1024
    session = make_session(max_body_bytes=cap)
    started = time.monotonic()
    error, peak = _peak_allocated(lambda: session.do(Request("GET", "/huge")))
    assert time.monotonic() - started < 10
    assert error is not None and str(error).endswith(f"/huge: response body exceeds {cap} bytes")
    assert peak < 8 * MiB
    # The server streams 500 MB unless we hang up: what it got out is the cap plus socket buffers.
    assert server.bytes_served < 64 * MiB


def test_declared_oversized_body_is_refused_before_reading(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    cap = 1 * MiB
    session = make_session(max_body_bytes=cap)
    error = fails_within(10.0, lambda: session.do(Request("GET", "/huge-declared")))
    assert f"response body exceeds {cap} bytes (Content-Length 500000000)" in str(error)
    assert server.bytes_served < 64 * MiB


def test_gzip_bomb_is_cut_at_the_decompressed_cap(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    cap = 1 * MiB
    session = make_session(max_decompressed_bytes=cap)
    started = time.monotonic()
    error, peak = _peak_allocated(lambda: session.do(Request("GET", "/gzip-bomb")))
    assert time.monotonic() - started < 10
    assert error is not None and str(error).endswith(f"gzip body decompresses beyond {cap} bytes")
    assert peak < 16 * MiB
    assert server.bytes_served < 64 * MiB  # a 1 GiB bomb is ~1 MB compressed; we stop early


def test_gzip_and_deflate_bodies_are_decoded(make_session: Callable[..., Session]) -> None:
    session = make_session()
    check = new_check()
    gzipped = session.do(Request("GET", "/gzip-ok"), check=check)
    assert gzipped.json()["compressed"] is True
    assert session.do(Request("GET", "/deflate-ok")).json() == {"deflated": True}
    # The evidence holds the decoded text, cut at 4 KiB.
    body = check.evidence[0].response_body
    assert body is not None and body.startswith('{"compressed": true')
    assert body.endswith(" bytes]") and "…[truncated " in body


def test_invalid_gzip_is_a_transport_error(make_session: Callable[..., Session]) -> None:
    error = fails_within(5.0, lambda: make_session().do(Request("GET", "/invalid-gzip")))
    assert "/invalid-gzip: invalid gzip body: " in str(error)


def test_unsupported_content_encoding(make_session: Callable[..., Session]) -> None:
    error = fails_within(5.0, lambda: make_session().do(Request("GET", "/brotli")))
    assert str(error).endswith("/brotli: unsupported Content-Encoding 'br'")


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (Request("GET", "/echo", headers={"X-A": "a\nb"}), "/echo: invalid request: "),
        (Request("GET", "/echo", headers={"X-A": "\u00e9"}), "/echo: invalid request: "),
        (Request("GET", "http://[::1"), "GET http://[::1: invalid request: "),
    ],
)
def test_malformed_requests_are_transport_errors(
    make_session: Callable[..., Session], request_: Request, expected: str
) -> None:
    check = new_check()
    error = fails_within(5.0, lambda: make_session().do(request_, check=check))
    assert expected in assert_clean_message(error)
    assert check.evidence[-1].error is not None


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_untrusted_certificate(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    tls = MisbehavingServer(ssl_context=context).start()
    try:
        with Session(HttpSettings(base_url=tls.url, timeout_s=5), BearerToken(TOKEN)) as session:
            error = fails_within(5.0, lambda: session.do(Request("GET", "/ok")))
        assert "/ok: TLS certificate verify failed: self" in assert_clean_message(error)
        insecure = HttpSettings(base_url=tls.url, timeout_s=5, verify_tls=False)
        with Session(insecure) as session:
            assert session.do(Request("GET", "/ok")).json() == {"ok": True}
    finally:
        tls.stop()


# -- redirects ---------------------------------------------------------------------------------


def test_redirects_are_not_followed_by_default(make_session: Callable[..., Session]) -> None:
    response = make_session().do(Request("GET", "/redirect-same"))
    assert response.status_code == 307
    assert response.headers["Location"] == "/echo"


def test_redirect_loop_stops(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    session = make_session(follow_redirects=True)
    check = new_check()
    error = fails_within(10.0, lambda: session.do(Request("GET", "/redirect-loop"), check=check))
    assert str(error).endswith("/redirect-loop: too many redirects (more than 5)")
    assert server.hits("/redirect-loop") == 6
    assert len(check.evidence) == 6 and check.evidence[-1].error is not None


def test_unusable_redirect_location(make_session: Callable[..., Session]) -> None:
    # Not following: the response is evidence like any other.
    assert make_session().do(Request("GET", "/redirect-bad")).status_code == 302
    session = make_session(follow_redirects=True)
    error = fails_within(5.0, lambda: session.do(Request("GET", "/redirect-bad")))
    assert str(error).endswith("/redirect-bad: invalid redirect Location 'http://[::1'")


def test_authorization_kept_on_same_host_dropped_on_another(
    make_session: Callable[..., Session],
) -> None:
    session = make_session(BearerToken(TOKEN), follow_redirects=True)
    same = session.do(Request("GET", "/redirect-same")).json()["headers"]
    assert same["authorization"] == f"Bearer {TOKEN}"
    other = session.do(Request("GET", "/redirect-other-host")).json()["headers"]
    assert other["host"].startswith("localhost:")
    assert "authorization" not in other


# -- throttling --------------------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    session = make_session()
    check = new_check()
    started = time.monotonic()
    response = session.do(Request("GET", "/429", params={"n": 2, "after": "0.2"}), check=check)
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.json()["attempt"] == 3
    assert 0.4 <= elapsed < 5
    assert [e.status_code for e in check.evidence] == [429, 429, 200]
    assert response.exchange_index == 2
    assert session.requests_sent == 3


def test_429_gives_up_after_max_retries(make_session: Callable[..., Session]) -> None:
    session = make_session(max_retries_429=2, max_retry_wait_s=0.05)
    started = time.monotonic()
    response = session.do(Request("GET", "/429", params={"n": 10, "after": "120"}))
    # Retry-After: 120 is capped by max_retry_wait_s.
    assert time.monotonic() - started < 3
    assert response.status_code == 429
    assert session.requests_sent == 3


def test_retry_after_parsing() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after("-5") == 0.0
    assert _retry_after("soon") is None
    assert _retry_after(None) is None
    waited = _retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0)
    assert waited == pytest.approx(10.0)


def test_low_rate_limit_remaining_slows_the_next_request(server: MisbehavingServer) -> None:
    waits: list[float] = []
    with Session(HttpSettings(base_url=server.url), sleep=waits.append) as session:
        session.do(Request("GET", "/rate-limit-low", params={"remaining": 50, "reset": 4}))
        session.do(Request("GET", "/ok"))
        assert waits == []  # half the budget left: no need to slow down
        session.do(Request("GET", "/rate-limit-low", params={"remaining": 2, "reset": 4}))
        session.do(Request("GET", "/ok"))
    # 2 requests left for 4 s: the next one waits about 2 s.
    assert len(waits) == 1 and 1.5 < waits[0] <= 2.0


def test_pacer_spaces_threads_evenly() -> None:
    bucket = Pacer(per_min=121)  # one at once, then one every half second
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        wait = bucket.reserve()
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert sorted(waits) == pytest.approx([0, 0.5, 1.0, 1.5, 2.0], abs=0.25)


@pytest.mark.parametrize("per_min", [1, 2, 7, 60, 300, 2500])
def test_pacer_never_lets_more_than_its_budget_through_in_a_minute(per_min: int) -> None:
    """Greedy senders on a simulated clock: the busiest 60 s window holds at most ``per_min``."""
    clock = [1000.0]
    sent: list[float] = []
    pacer = Pacer(per_min, clock=lambda: clock[0])
    while clock[0] < 1000.0 + 300:
        clock[0] += pacer.reserve()
        sent.append(clock[0])
    busiest = max(sum(1 for t in sent if start <= t <= start + 60.0) for start in sent)
    assert busiest <= per_min
    assert busiest >= per_min * 0.95 - 1  # and it does not waste the budget either


def test_pacer_holds_every_session_sharing_it(server: MisbehavingServer) -> None:
    """Sessions of one run share one budget: the second session waits for the first's turn."""
    waits: list[float] = []
    pacer = Pacer(per_min=61)  # one a second
    settings = HttpSettings(base_url=server.url)
    with (
        Session(settings, pacer=pacer, sleep=waits.append) as first,
        Session(settings, pacer=pacer, sleep=waits.append) as second,
    ):
        first.do(Request("GET", "/ok"))
        second.do(Request("GET", "/ok"))
    assert len(waits) == 1 and 0.5 < waits[0] <= 1.0


def test_client_side_pacing_spaces_requests(server: MisbehavingServer) -> None:
    waits: list[float] = []
    settings = HttpSettings(base_url=server.url, rate_limit_per_min=61)  # one a second
    with Session(settings, sleep=waits.append) as session:
        for _ in range(3):
            session.do(Request("GET", "/ok"))
    # The sleeps are recorded, not slept: each request's turn is a second after the last's.
    assert waits == pytest.approx([1.0, 2.0], abs=0.25)


# -- OAuth client credentials ------------------------------------------------------------------


def test_token_fetched_once_refreshed_on_401(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    session = make_session(ClientCredentials(CLIENT_ID, CLIENT_SECRET))
    check = new_check()
    assert session.do(Request("GET", "/v1/protected"), check=check).status_code == 200
    assert session.do(Request("GET", "/v1/protected"), check=check).status_code == 200
    assert server.hits("/oauth/token") == 1
    server.revoke_tokens()
    response = session.do(Request("GET", "/v1/protected"), check=check)
    assert response.status_code == 200
    assert server.hits("/oauth/token") == 2
    statuses = [(e.url.rsplit("/", 1)[-1], e.status_code) for e in check.evidence]
    assert statuses == [
        ("token", 200),
        ("protected", 200),
        ("protected", 200),
        ("protected", 401),
        ("token", 200),
        ("protected", 200),
    ]
    # Neither the client secret nor either access token (echoed by the server) is in evidence.
    text = evidence_text(check)
    assert CLIENT_SECRET not in text and "access-token-000" not in text
    assert check.evidence[0].request_body is not None
    assert "client_secret=%5BREDACTED%5D" in check.evidence[0].request_body
    sent = server.requests[0]
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"grant_type=client_credentials" in sent.body


def test_a_second_401_is_returned(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    session = make_session(ClientCredentials(CLIENT_ID, CLIENT_SECRET))
    # A caller-set Authorization header is never "refreshed".
    headers = {"Authorization": "Bearer forged"}
    assert session.do(Request("GET", "/v1/protected", headers=headers)).status_code == 401
    assert server.hits("/v1/protected") == 1


def test_short_lived_tokens_are_refetched(server: MisbehavingServer) -> None:
    server.token_lifetime_s = 30  # less than the 60 s margin: every request needs a new one
    auth = ClientCredentials(CLIENT_ID, CLIENT_SECRET, token_url=f"{server.url}/oauth/token")
    with Session(HttpSettings(base_url=f"{server.url}/v1"), auth) as session:
        for _ in range(3):
            assert session.do(Request("GET", "/protected")).status_code == 200
    assert server.hits("/oauth/token") == 3


def test_bad_client_secret_is_a_setup_error_without_the_secret(
    make_session: Callable[..., Session],
) -> None:
    wrong = "Wrong-secret-value-1234567"
    session = make_session(ClientCredentials(CLIENT_ID, wrong))
    with pytest.raises(SetupError) as caught:
        session.do(Request("GET", "/v1/protected"))
    message = assert_clean_message(caught.value, wrong)
    assert message.endswith("/oauth/token answered 401: bad credentials")


def test_static_token_401_is_not_retried(
    server: MisbehavingServer, make_session: Callable[..., Session]
) -> None:
    session = make_session(BearerToken(TOKEN))
    assert session.do(Request("GET", "/v1/protected")).status_code == 401
    assert server.hits("/v1/protected") == 1


def test_secrets_in_urls_never_reach_messages() -> None:
    settings = HttpSettings(base_url=f"http://127.0.0.1:{unused_port()}")
    with Session(settings, BearerToken(TOKEN)) as session:
        check = new_check()
        request = Request(
            "GET", "/v1/x", params={"access_token": "other-secret-abcdef", "q": TOKEN}
        )
        error = fails_within(5.0, lambda: session.do(request, check=check))
    assert_clean_message(error, "other-secret-abcdef")
    assert "access_token=%5BREDACTED%5D" in str(error)
    assert TOKEN not in evidence_text(check)


# -- redaction ---------------------------------------------------------------------------------


def test_redactor_scrubs_known_secrets_everywhere() -> None:
    redactor = Redactor(["tok/en+1", None, ""])
    assert redactor.scrub("a tok/en+1 b") == f"a {REDACTED} b"
    assert redactor.scrub("q=tok%2Fen%2B1") == f"q={REDACTED}"
    headers = redactor.headers({"Authorization": "Bearer x", "X-Echo": "tok/en+1", "Cookie": "c"})
    assert headers == {"Authorization": "Bearer [REDACTED]", "X-Echo": REDACTED, "Cookie": REDACTED}


def test_redactor_blanks_credential_fields() -> None:
    redactor = Redactor()
    body = json.dumps({"data": [{"access_token": "abc", "password": "pw", "name": "n"}]})
    redacted = json.loads(redactor.body(body.encode(), "application/json") or "")
    assert redacted == {"data": [{"access_token": REDACTED, "password": REDACTED, "name": "n"}]}
    form = redactor.body(b"client_id=a&client_secret=b", "application/x-www-form-urlencoded")
    assert form == "client_id=a&client_secret=%5BREDACTED%5D"
    assert redactor.url("http://u:pw@h/x?clientSecret=s&a=1") == (
        "http://u:[REDACTED]@h/x?clientSecret=%5BREDACTED%5D&a=1"
    )
    assert redactor.body(b"") is None


def test_truncate_marks_what_it_dropped() -> None:
    assert truncate("abc", 10) == "abc"
    assert truncate("a" * 10, 4) == "aaaa…[truncated 6 bytes]"
    # A multi-byte character is never split.
    assert truncate("é" * 3, 3) == "é…[truncated 4 bytes]"
