"""Authentication on the reference: OAuth client credentials, static tokens, expiry, tenants."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from _wait import wait_until
from reference_support import MODERN, NOV_2014, STATIC_TOKEN, Tenant, category, reason_code

from conformance.reference import ReferenceServer

RUN = "/v1/journal-runs/JR-00000001"


def _token(url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{url}/oauth/token", data=form, headers=MODERN)


def test_token_answer_shape(server: ReferenceServer) -> None:
    response = _token(
        server.url,
        client_id="c" * 36,
        client_secret="reference-secret",
        grant_type="client_credentials",
    )
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "jti"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) == 32 and body["jti"]


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"client_id": "a", "client_secret": "wrong", "grant_type": "client_credentials"}, 401, 11),
        ({"client_id": "a", "grant_type": "client_credentials"}, 400, 22),
        ({"client_secret": "reference-secret", "grant_type": "client_credentials"}, 400, 22),
        (
            {"client_id": "a", "client_secret": "reference-secret", "grant_type": "password"},
            400,
            20,
        ),
    ],
)
def test_token_refusals(
    server: ReferenceServer, form: dict[str, str], status: int, code: int
) -> None:
    response = _token(server.url, **form)
    assert (response.status_code, reason_code(response)) == (status, f"530400{code:02d}")
    assert "reference-secret" not in response.text and "wrong" not in response.text


def test_token_endpoint_accepts_only_post(server: ReferenceServer) -> None:
    response = httpx.get(f"{server.url}/oauth/token", headers=MODERN)
    assert (response.status_code, category(response)) == (405, 45)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer  a b", "Basic dXNlcjpwYXNz", "Bearer not-a-token", "token abc"],
)
def test_missing_or_invalid_tokens_are_401_in_both_styles(
    server: ReferenceServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for version in ({}, MODERN):
        response = httpx.post(
            f"{server.url}/v1/journal-runs", json=NOV_2014, headers={**headers, **version}
        )
        assert (response.status_code, reason_code(response)) == (401, "53010011")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = httpx.get(f"{server.url}{RUN}", headers=headers)
    assert (response.status_code, reason_code(response)) == (401, "50000011")


def test_authentication_comes_before_routing(server: ReferenceServer) -> None:
    assert httpx.get(f"{server.url}/nowhere").status_code == 401
    assert httpx.patch(f"{server.url}{RUN}").status_code == 401


def test_static_tokens_are_their_own_tenant(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    server = make_server(tokens=("token-a", "token-b"))
    first = make_tenant(server, token="token-a")
    second = make_tenant(server, token="token-b")
    number = first.completed_run()
    assert first.run(number)["status"] == "Completed"
    assert category(second.http.get(f"/v1/journal-runs/{number}")) == 40
    assert second.completed_run() == number  # its own numbering


def test_the_shared_static_token_works(server: ReferenceServer) -> None:
    static = Tenant(server.url, token=STATIC_TOKEN)
    try:
        assert static.http.get("/v1/journal-runs/JR-99999999").status_code == 200
    finally:
        static.close()


def test_each_client_id_is_a_tenant_and_its_tokens_share_it(server: ReferenceServer) -> None:
    first = Tenant(server.url, client_id="shared-client-for-test")
    second = Tenant(server.url, client_id="shared-client-for-test")
    try:
        assert first.token != second.token
        number = first.completed_run()
        assert second.run(number)["status"] == "Completed"
    finally:
        first.close()
        second.close()


def test_expired_tokens_are_refused_and_a_new_one_works(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    server = make_server(token_lifetime=0.3)
    tenant = make_tenant(server)
    assert tenant.http.get(RUN).status_code == 200
    expired = wait_until(
        lambda: (answer := tenant.http.get(RUN)).status_code == 401 and answer,
        5,
        0.05,
        "the token never expired",
    )
    assert reason_code(expired) == "50000011" and "expired" in expired.text
    refreshed = make_tenant(server, client_id=tenant.client_id)
    assert refreshed.http.get(RUN).status_code == 200


def test_a_custom_client_secret(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    server = make_server(client_secret="s3cret")
    assert _token(server.url, client_id="a", client_secret="reference-secret",
                  grant_type="client_credentials").status_code == 401  # fmt: skip
    response = _token(
        server.url, client_id="a", client_secret="s3cret", grant_type="client_credentials"
    )
    assert response.status_code == 200
