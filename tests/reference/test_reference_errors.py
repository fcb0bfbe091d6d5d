"""The vendor's error envelope, codes and the version-dependent status; hostile input; faults."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from reference_support import MODERN, NOV_2014, Tenant, category, reason_code

from conformance.reference import FAULTS, ReferenceServer, ReferenceSettings, create_app
from conformance.reference._errors import MODERN_STATUS, RESOURCE_CODES, Category, is_modern

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_envelope_shape(tenant: Tenant) -> None:
    response = tenant.http.get("/v1/journal-runs/JR-00000077")
    body = response.json()
    assert set(body) == {"success", "processId", "reasons", "requestId"}
    assert body["success"] is False
    assert re.fullmatch(r"[0-9A-F]{16}", body["processId"])
    assert body["reasons"] == [{"code": "50000040", "message": body["reasons"][0]["message"]}]
    assert "JR-00000077" in body["reasons"][0]["message"]
    assert UUID.fullmatch(body["requestId"])
    assert body["requestId"] == response.headers["Zuora-Request-Id"]


def test_successes_carry_no_process_id_or_reasons(tenant: Tenant) -> None:
    number = tenant.completed_run()
    for body in (tenant.run(number), tenant.http.put(f"/v1/journal-runs/{number}/cancel").json()):
        assert body["success"] is True
        assert "reasons" not in body and "processId" not in body


def test_resource_codes_are_one_table_of_six_digits() -> None:
    assert set(RESOURCE_CODES) == {
        "POST_JournalRun",
        "POST_SummaryJournalEntry",
        "PUT_BasicSummaryJournalEntry",
        "POST_OAuthToken",
    }
    codes = list(RESOURCE_CODES.values())
    assert len(set(codes)) == len(codes) and all(100000 <= c <= 999999 for c in codes)
    assert set(MODERN_STATUS) == set(Category)


@pytest.mark.parametrize(
    ("version", "default", "modern"),
    [
        ("2024-05-20", "legacy", True),
        ("2025-08-12", "legacy", True),
        ("2030-01-01", "legacy", True),
        ("2024-05-19", "modern", False),
        ("2017-01-01", "modern", False),
        ("186.0", "legacy", False),
        ("341.0", "modern", False),
        ("342.0", "modern", True),
        ("100", "legacy", False),
        ("soon", "modern", True),
        ("2024-13-45", "legacy", False),
        (None, "legacy", False),
        (None, "modern", True),
    ],
)
def test_which_versions_are_modern(version: str | None, default: Any, modern: bool) -> None:
    assert is_modern(version, default) is modern


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),
        ({"Zuora-Version": "2024-05-20"}, 404),
        ({"Zuora-Version": "2025-08-12"}, 404),
        ({"Zuora-Version": "2023-10-01"}, 200),
        ({"Zuora-Version": "211.0"}, 200),
        ({"Zuora-Version": "banana"}, 200),
    ],
)
def test_status_follows_the_version_in_the_legacy_default(
    tenant: Tenant, headers: dict[str, str], status: int
) -> None:
    response = tenant.http.get("/v1/journal-runs/JR-00000001", headers=headers)
    assert response.status_code == status
    assert reason_code(response) == "50000040"


def test_modern_default_style(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(error_style="modern"))
    assert tenant.http.get("/v1/journal-runs/JR-00000001").status_code == 404
    numeric = tenant.http.get("/v1/journal-runs/JR-00000001", headers={"Zuora-Version": "186.0"})
    assert numeric.status_code == 200  # 186.0 to 341.0 are from before 2024-05-20: legacy
    unknown = tenant.http.get("/v1/journal-runs/JR-00000001", headers={"Zuora-Version": "999.0"})
    assert unknown.status_code == 404  # an unknown version means the default, here modern
    old = tenant.http.get("/v1/journal-runs/JR-00000001", headers={"Zuora-Version": "2020-01-01"})
    assert old.status_code == 200 and category(old) == 40


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("application/xml", False),
        ("", False),
    ],
)
def test_bodies_must_be_json(tenant: Tenant, content_type: str, accepted: bool) -> None:
    import json

    response = tenant.http.post(
        "/v1/journal-runs",
        content=json.dumps(NOV_2014).encode(),
        headers={**MODERN, "Content-Type": content_type},
    )
    if accepted:
        assert response.json()["success"] is True
    else:
        assert (response.status_code, reason_code(response)) == (415, "53010045")
        legacy = tenant.http.post(
            "/v1/journal-runs", content=b"{}", headers={"Content-Type": content_type}
        )
        assert (legacy.status_code, category(legacy)) == (200, 45)


def test_the_content_encoding_refusal_is_415(tenant: Tenant) -> None:
    response = tenant.http.post(
        "/v1/journal-runs", json=NOV_2014, headers={**MODERN, "Content-Encoding": "br"}
    )
    assert (response.status_code, category(response)) == (415, 45)


def test_odd_paths_still_get_the_json_envelope(tenant: Tenant) -> None:
    for path in ("/v1/journal-runs/%0A/cancel", "/v1/journal-runs/JR-%0A0000001", "/%0A"):
        response = tenant.http.put(path, headers=MODERN)
        assert response.headers["Content-Type"] == "application/json", path
        assert category(response) in (20, 40, 45)


def test_unknown_paths_and_wrong_methods(tenant: Tenant) -> None:
    for path in ("/v1/journal-runs/JR-00000001/restart", "/", "/v1/journal-runs/", "/v2/x"):
        response = tenant.http.get(path, headers=MODERN)
        assert (response.status_code, reason_code(response)) == (404, "50000040"), path
    for method, path in (
        ("GET", "/v1/journal-runs"),
        ("PATCH", "/v1/journal-runs/JR-00000001"),
        ("POST", "/v1/journal-runs/JR-00000001/cancel"),
        ("HEAD", "/v1/journal-entries"),
        ("OPTIONS", "/v1/journal-entries/JE-00000001"),
    ):
        response = tenant.http.request(method, path, headers=MODERN)
        assert response.status_code == 405, (method, path)
        assert "Allow" in response.headers
        if method != "HEAD":
            assert category(response) == 45
    legacy = tenant.http.get("/v1/journal-runs")
    assert (legacy.status_code, category(legacy)) == (200, 45)


@pytest.mark.parametrize(
    ("content", "headers", "expected"),
    [
        (b"{", {}, 90),
        (b"", {}, 90),
        (b"\xff\xfe{}", {}, 90),
        (b'{"a": NaN}', {}, 90),
        (b'{"a": 1e999999}', {}, 20),  # parses to inf, then journalEntryDate is missing -> 22
        (b"[" * 100_000 + b"]" * 100_000, {}, 90),
        (b"1" * 5000, {}, 90),
        (b"[]", {}, 20),
        (b'"text"', {}, 20),
        (b"null", {}, 20),
        (b"{}", {}, 22),
        (b"{}", {"Content-Encoding": "br"}, 45),
        (b"{}", {"Content-Encoding": "identity"}, 45),
        (b"{}", {"Content-Encoding": ""}, 45),
        (b"not gzip", {"Content-Encoding": "gzip"}, 90),
    ],
)
def test_malformed_bodies_get_the_envelope(
    tenant: Tenant, content: bytes, headers: dict[str, str], expected: int
) -> None:
    response = tenant.http.post(
        "/v1/journal-runs",
        content=content,
        headers={**MODERN, "Content-Type": "application/json", **headers},
    )
    assert response.status_code < 500
    found = category(response)
    if content.startswith(b'{"a": 1e'):
        assert found in (20, 22, 90)
    else:
        assert found == expected


@pytest.mark.parametrize(
    "value",
    [
        "x" * 100_000,
        12345678901234567890123456789,
        -1,
        1.5,
        True,
        [],
        {},
        None,
        "2014-11-04T00:00:00Z",
        "\u0000",
        "\uff12\uff10\uff11\uff14-11-04",  # full-width digits,
    ],
)
@pytest.mark.parametrize(
    "field", ["journalEntryDate", "accountingPeriodName", "targetStartDate", "transactionTypes"]
)
def test_wrong_types_and_huge_values_never_break_the_server(
    tenant: Tenant, field: str, value: Any
) -> None:
    response = tenant.http.post("/v1/journal-runs", json=dict(NOV_2014, **{field: value}))
    assert response.status_code == 200
    body = response.json()
    if body["success"]:
        # only an empty optional field can be harmless
        assert field == "targetStartDate" and value is None
    else:
        assert category(response) in (20, 22, 30)


def test_fuzzed_requests_through_asgi_never_answer_5xx() -> None:
    """A quick in-process sweep over many shapes; the ASGI transport adds no socket noise."""
    app = create_app(ReferenceSettings(tokens=("t",)))
    transport = httpx.ASGITransport(app=app)
    shapes: list[Any] = [
        {"transactionTypes": [{"type": t}], "journalEntryDate": d, "accountingPeriodName": p}
        for t in ("Invoice Item", "", 5, None)
        for d in ("2014-11-04", "", "2014-00-01", None)
        for p in ("Nov-2014", "nov-2014", "", None, "Open-Ended")
    ]

    async def sweep() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://ref") as client:
            client.headers["Authorization"] = "Bearer t"
            for shape in shapes:
                for path in ("/v1/journal-runs", "/v1/journal-entries"):
                    response = await client.post(path, json=shape)
                    assert response.status_code == 200, (path, shape, response.text)
                    assert isinstance(response.json()["success"], bool)
            for path in ("/v1/journal-entries/%00", "/v1/journal-runs/JR-%2F", "/v1/%ff"):
                assert (await client.get(path)).status_code == 200

    asyncio.run(sweep())


# --- faults ------------------------------------------------------------------------------------


def test_fault_table_names_requirements_that_exist() -> None:
    import yaml

    from conformance._resources import requirements_path

    catalogue = yaml.safe_load(requirements_path().read_text())
    ids = {requirement["id"] for requirement in catalogue["requirements"]}
    assert set(FAULTS) >= {"delete-completed", "modern-errors-as-200", "seven-digit-codes"}
    for fault in FAULTS.values():
        assert fault.breaks and set(fault.breaks) <= ids, fault
        assert fault.description


def test_unknown_fault_is_a_clear_config_error() -> None:
    from conformance import ConfigError

    with pytest.raises(ConfigError, match=r"unknown fault 'nope'.*delete-completed"):
        ReferenceSettings(faults=frozenset({"nope"}))


def test_fault_delete_completed(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(faults=frozenset({"delete-completed"})))
    number = tenant.completed_run()
    assert tenant.http.delete(f"/v1/journal-runs/{number}").json() == {"success": True}
    tenant.wait_gone(number)


def test_fault_modern_errors_as_200(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(faults=frozenset({"modern-errors-as-200"})))
    response = tenant.http.get("/v1/journal-runs/JR-00000001", headers=MODERN)
    assert (response.status_code, category(response)) == (200, 40)
    # authentication stays 401: it is not a version-mapped answer
    assert httpx.get(f"{tenant.url}/v1/journal-runs/JR-00000001").status_code == 401


def test_fault_seven_digit_codes(
    make_server: Callable[..., ReferenceServer], make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant(make_server(faults=frozenset({"seven-digit-codes"})))
    assert reason_code(tenant.http.get("/v1/journal-runs/JR-00000001")) == "0000040"
    create = tenant.http.post("/v1/journal-runs", json={})
    assert reason_code(create) == "3010022"


def test_faults_leave_the_faithful_server_alone(tenant: Tenant) -> None:
    number = tenant.completed_run()
    assert category(tenant.http.delete(f"/v1/journal-runs/{number}")) == 30
    assert len(reason_code(tenant.http.get("/v1/journal-runs/JR-00000099"))) == 8
