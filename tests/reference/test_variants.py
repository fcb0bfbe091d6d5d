"""The reference's variants: the table agrees with the catalogue, and each variant really makes
the reference take the other reading it claims (one test per family)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from reference_support import MODERN, NOV_2014, Tenant, category, reason_code

import conformance
from conformance import _selftest
from conformance._catalogue import load_catalogue
from conformance._exceptions import CatalogueError, ConfigError
from conformance._resources import requirements_path
from conformance.reference import VARIANTS, ReferenceServer, ReferenceSettings, Variant

REFERENCE = Path(conformance.__file__).parent / "reference"
Start = Callable[..., ReferenceServer]
MakeTenant = Callable[..., Tenant]
MANUAL = {
    "accountingPeriodName": "Nov-2014",
    "currency": "USD",
    "journalEntryDate": "2014-11-04",
    "transactionType": "Invoice Item",
    "journalEntryItems": [
        {"accountingCodeName": "Accounts Receivable", "amount": "10.00", "type": "Debit"},
        {"accountingCodeName": "Sales Revenue", "amount": 10, "type": "Credit"},
    ],
}


def _tenant(start: Start, make_tenant: MakeTenant, *variants: str, **settings: Any) -> Tenant:
    return make_tenant(start(variants=frozenset(variants), **settings))


# -- the table ------------------------------------------------------------------------------------


def test_every_variant_is_named_described_and_grounded() -> None:
    catalogue = load_catalogue()
    assert len(VARIANTS) >= 15
    for variant in VARIANTS.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", variant.name), variant.name
        assert variant.description.strip(), variant.name
        assert variant.readings or variant.basis, variant.name
        for rid in variant.readings:
            assert catalogue.requirements[rid].decision, (variant.name, rid)
    _selftest.check_variant_table(catalogue)  # the self-test's own guard agrees


def test_every_decision_names_its_variants_or_says_why_none() -> None:
    catalogue = load_catalogue()
    decided = [r for r in catalogue.requirements.values() if r.decision and r.testable]
    assert len(decided) >= 45
    for requirement in decided:
        assert requirement.variants or requirement.variants_reason, requirement.id
        for name in requirement.variants:
            assert requirement.id in VARIANTS[name].readings, (requirement.id, name)


def test_every_variant_is_used_at_a_marked_point_of_the_reference() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted(REFERENCE.glob("*.py"))
        if path.name != "_variants.py"
    )
    for name in VARIANTS:
        assert f'has_variant("{name}")' in source, f"variant {name} is never checked"
        assert re.search(rf"# VARIANT [^\n]*\b{re.escape(name)}\b", source), f"{name} unmarked"
    used = set(re.findall(r'has_variant\("([^"]+)"\)', source))
    assert used == set(VARIANTS)


def test_unknown_variants_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown variant 'nope'.*auth-legacy-200"):
        ReferenceSettings(variants=frozenset({"nope"}))
    with pytest.raises(KeyError):
        ReferenceSettings().has_variant("nope")


def test_the_table_and_the_catalogue_must_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = load_catalogue()
    silent = Variant("silent", "a variant nobody names", readings=("JR-CREATE-003",))
    monkeypatch.setattr("conformance.reference.VARIANTS", {**VARIANTS, "silent": silent})
    with pytest.raises(CatalogueError, match="variant silent reads JR-CREATE-003, which does not"):
        _selftest.check_variant_table(catalogue)
    bare = Variant("bare", "neither readings nor basis")
    monkeypatch.setattr("conformance.reference.VARIANTS", {**VARIANTS, "bare": bare})
    with pytest.raises(CatalogueError, match="variant bare declares no reading and no basis"):
        _selftest.check_variant_table(catalogue)
    lonely = {k: v for k, v in VARIANTS.items() if k != "next-page-null"}
    monkeypatch.setattr("conformance.reference.VARIANTS", lonely)
    with pytest.raises(CatalogueError, match="JR-ENTRIES-003 names unknown variant next-page-null"):
        _selftest.check_variant_table(catalogue)


def _catalogue_with(tmp_path: Path, rid: str, **change: Any) -> Path:
    data = yaml.safe_load(requirements_path().read_text(encoding="utf-8"))
    entry = next(r for r in data["requirements"] if r["id"] == rid)
    for key, value in change.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    path = tmp_path / "requirements.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_decision_without_variants_is_a_catalogue_error(tmp_path: Path) -> None:
    missing = _catalogue_with(tmp_path, "JR-ERRORS-004", variants=None)
    with pytest.raises(CatalogueError, match=r"JR-ERRORS-004.*'variants' is a required"):
        load_catalogue(requirements_path=missing)
    unexplained = _catalogue_with(tmp_path, "JR-ERRORS-004", variants=[])
    with pytest.raises(CatalogueError, match=r"JR-ERRORS-004.*'variants_reason' is a required"):
        load_catalogue(requirements_path=unexplained)
    # a not-observable requirement's decision needs no variant
    load_catalogue(requirements_path=_catalogue_with(tmp_path, "JR-HEADERS-013", variants=None))


def test_serve_takes_variants(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance import cli

    seen: list[ReferenceSettings] = []
    monkeypatch.setattr("conformance.reference.serve", lambda settings, **_: seen.append(settings))
    assert cli.main(["serve", "--variant", "fast-lifecycle", "--variant", "codes-as-numbers"]) == 0
    assert seen[-1].variants == {"fast-lifecycle", "codes-as-numbers"}
    assert cli.main(["serve", "--variant", "all"]) == 0
    assert seen[-1].variants == set(VARIANTS)


# -- authentication -------------------------------------------------------------------------------


def test_auth_legacy_200_answers_category_11_in_the_legacy_style_only(
    make_server: Start,
) -> None:
    server = make_server(variants=frozenset({"auth-legacy-200"}))
    legacy = httpx.get(f"{server.url}/v1/journal-runs/JR-00000001")
    assert legacy.status_code == 200 and category(legacy) == 11
    modern = httpx.get(f"{server.url}/v1/journal-runs/JR-00000001", headers=MODERN)
    assert modern.status_code == 401 and category(modern) == 11


def test_auth_401_gateway_body_has_no_envelope(make_server: Start) -> None:
    both = frozenset({"auth-401-gateway-body", "auth-legacy-200"})
    server = make_server(variants=both)
    modern = httpx.get(f"{server.url}/v1/journal-runs/JR-00000001", headers=MODERN)
    assert modern.status_code == 401 and modern.json() == {"message": "Authentication error"}
    assert modern.headers["content-type"] == "application/json"
    legacy = httpx.get(f"{server.url}/v1/journal-runs/JR-00000001")  # the legacy style wins
    assert legacy.status_code == 200 and category(legacy) == 11


# -- refusals and error styles --------------------------------------------------------------------


def test_refusal_categories_alt_takes_the_other_accepted_category(
    make_server: Start, make_tenant: MakeTenant
) -> None:
    tenant = _tenant(make_server, make_tenant, "refusal-categories-alt")
    post = tenant.http.post
    no_date = {k: v for k, v in NOV_2014.items() if k != "journalEntryDate"}
    assert category(post("/v1/journal-runs", json=no_date)) == 20  # 22 -> 20
    assert category(post("/v1/journal-runs", json=dict(NOV_2014, transactionTypes=[]))) == 22
    no_period = {k: v for k, v in NOV_2014.items() if k != "accountingPeriodName"}
    assert category(post("/v1/journal-runs", json=no_period)) == 23  # 22 -> 23
    unknown = dict(NOV_2014, accountingPeriodName="Nov-1900")
    assert category(post("/v1/journal-runs", json=unknown)) == 40  # 30 -> 40
    across = dict(no_period, targetStartDate="2014-11-20", targetEndDate="2014-12-05")
    assert category(post("/v1/journal-runs", json=across)) == 20  # 30 -> 20
    assert category(tenant.http.get("/v1/journal-runs/JR-1")) == 40  # 20 -> 40
    assert category(tenant.http.patch("/v1/journal-runs/JR-00000001")) == 40  # 45 -> 40
    not_json = post("/v1/journal-runs", content=b"{", headers={"Content-Type": "application/json"})
    assert category(not_json) == 20  # 90 -> 20
    held = tenant.create_run(**{"X-Reference-Hold": "30"})
    assert category(post("/v1/journal-runs", json=NOV_2014)) == 50  # 30 -> 50
    assert category(tenant.http.put(f"/v1/journal-runs/{held}/cancel")) == 50  # Processing
    assert category(tenant.http.delete(f"/v1/journal-runs/{held}")) == 30  # not busy: 30
    entry = post("/v1/journal-entries", json=MANUAL).json()["journalEntryNumber"]
    assert category(tenant.http.delete(f"/v1/journal-entries/{entry}")) == 20  # 30 -> 20
    items = [dict(item, amount="11.00") for item in MANUAL["journalEntryItems"][:1]]  # type: ignore[index]
    unbalanced = dict(MANUAL, journalEntryItems=[*items, MANUAL["journalEntryItems"][1]])  # type: ignore[index]
    assert category(post("/v1/journal-entries", json=unbalanced)) == 20  # 30 -> 20


def test_refusal_categories_alt_refuses_early_dates_as_a_rule(
    make_server: Start, make_tenant: MakeTenant
) -> None:
    tenant = _tenant(
        make_server,
        make_tenant,
        "refusal-categories-alt",
        periods=("2024-01", "2026-12"),
        earliest_date="2025-01-01",
    )
    early = dict(NOV_2014, accountingPeriodName="Mar-2024", journalEntryDate="2024-03-04")
    assert category(tenant.http.post("/v1/journal-runs", json=early)) == 30  # 20 -> 30


def test_default_modern_style_answers_the_category_status_without_a_version(
    make_server: Start, make_tenant: MakeTenant
) -> None:
    server = make_server(variants=frozenset({"default-modern-style"}))
    assert server.settings.declared_style == "auto"  # the suite is not told
    tenant = make_tenant(server)
    assert tenant.http.get("/v1/journal-runs/JR-99999999").status_code == 404
    unknown = {"Zuora-Version": "banana"}
    assert tenant.http.get("/v1/journal-runs/JR-99999999", headers=unknown).status_code == 404
    legacy = {"Zuora-Version": "341.0"}
    assert tenant.http.get("/v1/journal-runs/JR-99999999", headers=legacy).status_code == 200


def test_envelope_variants(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(
        make_server,
        make_tenant,
        "no-process-id",
        "codes-as-numbers",
        "request-id-opaque",
        "request-id-in-newer-versions",
    )
    legacy = tenant.http.get("/v1/journal-runs/JR-99999999")
    body = legacy.json()
    assert body["reasons"][0]["code"] == 50000040  # a JSON number
    assert "processId" not in body and "requestId" not in body
    request_id = legacy.headers["Zuora-Request-Id"]
    assert len(request_id) == 36 and request_id.startswith("req-")
    newer = tenant.http.get("/v1/journal-runs/JR-99999999", headers=MODERN).json()
    assert len(newer["requestId"]) == 36
    number = tenant.create_run()
    success = tenant.http.get(f"/v1/journal-runs/{number}", headers=MODERN).json()
    assert success["success"] is True and len(success["requestId"]) == 36
    assert "requestId" not in tenant.run(number)


# -- the lifecycle --------------------------------------------------------------------------------


def test_fast_lifecycle_is_done_before_it_answers(
    make_server: Start, make_tenant: MakeTenant
) -> None:
    tenant = _tenant(make_server, make_tenant, "fast-lifecycle", delay=30.0)
    number = tenant.create_run()
    assert tenant.run(number)["status"] == "Completed"  # no wait, despite the 30 s delay
    assert tenant.http.put(f"/v1/journal-runs/{number}/cancel").json()["success"] is True
    assert tenant.run(number)["status"] == "Cancelled"
    assert tenant.http.delete(f"/v1/journal-runs/{number}").json()["success"] is True
    assert category(tenant.http.get(f"/v1/journal-runs/{number}")) == 40
    held = tenant.create_run(**{"X-Reference-Hold": "30"})  # a scenario's hold still holds
    assert tenant.run(held)["status"] == "Processing"


# -- runs and entries -----------------------------------------------------------------------------


def test_run_view_variants(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(
        make_server,
        make_tenant,
        "executed-on-rfc3339",
        "transaction-types-reordered",
        "vendor-nulls",
    )
    number = tenant.completed_run()
    run = tenant.run(number)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", run["executedOn"])
    types = [t["type"] for t in NOV_2014["transactionTypes"]]  # type: ignore[union-attr]
    assert [t["type"] for t in run["transactionTypes"]] == types[::-1]


def test_vendor_nulls_and_amounts_as_strings(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(make_server, make_tenant, "vendor-nulls", "amounts-as-strings")
    number = tenant.completed_run()
    entry = tenant.entries(number)[0]
    assert entry["Region__c"] == "EMEA" and entry["CostCenter__c"] is None
    assert entry["notes"] is None
    for item in entry["journalEntryItems"]:
        assert "Region__c" in item and "glAccountName" in item
        assert isinstance(item["amount"], str) and re.fullmatch(r"-?\d+(\.\d+)?", item["amount"])
        assert isinstance(item["homeCurrencyAmount"], str)


def test_vendor_nulls_shows_executed_on_null_before_execution(
    make_server: Start, make_tenant: MakeTenant
) -> None:
    tenant = _tenant(make_server, make_tenant, "vendor-nulls", delay=30.0)
    run = tenant.run(tenant.create_run())
    assert run["status"] == "Pending" and run["executedOn"] is None


def test_next_page_relative_and_null(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(make_server, make_tenant, "next-page-relative", "next-page-null")
    number = tenant.completed_run()
    first = tenant.http.get(f"/v1/journal-entries/journal-runs/{number}").json()
    assert first["nextPage"] == f"/v1/journal-entries/journal-runs/{number}?page=2&pageSize=8"
    assert tenant.http.get(first["nextPage"]).json()["success"] is True  # relative to the base
    last = tenant.http.get(first["nextPage"]).json()
    assert "nextPage" in last and last["nextPage"] is None


# -- headers --------------------------------------------------------------------------------------


def test_gzip_small_bodies(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(make_server, make_tenant, "gzip-small-bodies")
    small = tenant.http.get("/v1/journal-runs/JR-99999999", headers={"Accept-Encoding": "gzip"})
    assert small.headers["content-encoding"] == "gzip" and small.json()["success"] is False
    plain = tenant.http.get("/v1/journal-runs/JR-99999999", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_accept_refused_406(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(make_server, make_tenant, "accept-refused-406")
    number = tenant.create_run()
    html = tenant.http.get(f"/v1/journal-runs/{number}", headers={"Accept": "text/html"})
    assert html.status_code == 200 and category(html) == 45
    assert html.headers["content-type"].startswith("application/json")
    modern = tenant.http.get(
        f"/v1/journal-runs/{number}", headers={"Accept": "text/html", **MODERN}
    )
    assert modern.status_code == 406
    for accept in ("*/*", "application/json", "text/html, application/*;q=0.5", ""):
        answer = tenant.http.get(f"/v1/journal-runs/{number}", headers={"Accept": accept})
        assert answer.json()["success"] is True, accept
    no_json = {"Accept": "application/json;q=0, text/html"}
    assert category(tenant.http.get(f"/v1/journal-runs/{number}", headers=no_json)) == 45


def test_idempotency_strict(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(make_server, make_tenant, "idempotency-strict")
    key = {"Idempotency-Key": "strict-key-1"}
    first = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
    again = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
    assert again.json() == first.json()  # the same request is still replayed
    other = dict(NOV_2014, journalEntryDate="2014-11-05")
    assert tenant.http.post("/v1/journal-runs", json=other, headers=key).status_code == 422
    number = first.json()["journalRunNumber"]
    assert category(tenant.http.get(f"/v1/journal-runs/{number}", headers=key)) == 20


def test_idempotency_replay_all_headers(make_server: Start, make_tenant: MakeTenant) -> None:
    tenant = _tenant(make_server, make_tenant, "idempotency-replay-all-headers")
    key = {"Idempotency-Key": "replay-key-1"}
    first = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
    again = tenant.http.post("/v1/journal-runs", json=NOV_2014, headers=key)
    assert again.json() == first.json()
    assert again.headers["Zuora-Request-Id"] == first.headers["Zuora-Request-Id"]
    fresh = tenant.http.get("/v1/journal-runs/JR-99999999")
    assert fresh.headers["Zuora-Request-Id"] != first.headers["Zuora-Request-Id"]


# -- HTTP itself ----------------------------------------------------------------------------------


def _raw_exchange(url: str, request: bytes) -> tuple[bytes, bytes, bool]:
    """(head, body as sent, whether the server closed the connection) of one raw request."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        closed = False
        deadline = time.monotonic() + 3
        sock.settimeout(0.5)
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                closed = True
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body, closed


def test_transport_variants_frame_answers_as_http_allows(make_server: Start) -> None:
    variants = frozenset({"connection-close", "chunked-bodies", "header-names-title-case"})
    server = make_server(variants=variants, tokens=("transport-token",))
    request = (
        b"GET /v1/journal-runs/JR-99999999 HTTP/1.1\r\nHost: reference\r\n"
        b"Authorization: Bearer transport-token\r\n\r\n"
    )
    head, body, closed = _raw_exchange(server.url, request)
    assert b"\r\nConnection: close" in head and closed
    assert b"\r\nTransfer-Encoding: chunked" in head
    assert b"\r\nZuora-Request-Id: " in head and b"\r\nContent-Type: application/json" in head
    assert b"content-length" not in head.lower()
    sizes = re.findall(rb"(?m)^([0-9a-f]+)\r$", body)
    assert len(sizes) >= 3  # several chunks and the last, empty one
    # ... and a client reads the same JSON as ever, gzip-compressed or not
    for encoding in ("gzip", "identity"):
        answer = httpx.get(
            f"{server.url}/v1/journal-runs/JR-99999999",
            headers={"Authorization": "Bearer transport-token", "Accept-Encoding": encoding},
        )
        assert reason_code(answer) == "50000040"
