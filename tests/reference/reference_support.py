"""Helpers shared by the reference server's tests (a uniquely named module, so that it never
clashes with another test folder's helpers): constants, error-code readers, and ``Tenant``."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from _wait import wait_until

MODERN = {"Zuora-Version": "2024-05-20"}
#: The documented example: one month, three common types -> ten summary entries.
NOV_2014 = {
    "accountingPeriodName": "Nov-2014",
    "journalEntryDate": "2014-11-04",
    "transactionTypes": [
        {"type": "Invoice Item"},
        {"type": "Electronic Payment"},
        {"type": "Taxation Item"},
    ],
}
STATIC_TOKEN = "static-test-token"


def reason_code(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False, body
    (reason,) = body["reasons"]
    return str(reason["code"])


def category(response: httpx.Response) -> int:
    return int(reason_code(response)[-2:])


class Tenant:
    """An HTTP client for one tenant of one reference server, with the usual steps."""

    def __init__(self, url: str, *, client_id: str | None = None, token: str | None = None):
        self.url = url
        self.client_id = client_id or f"test-{uuid.uuid4()}"
        self.token = token or fetch_token(url, self.client_id)
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )

    def close(self) -> None:
        self.http.close()

    def create_run(self, body: dict[str, Any] | None = None, **headers: str) -> str:
        response = self.http.post("/v1/journal-runs", json=body or NOV_2014, headers=headers)
        assert response.status_code == 200 and response.json()["success"], response.text
        number: str = response.json()["journalRunNumber"]
        return number

    def run(self, number: str) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get(f"/v1/journal-runs/{number}").json()
        return body

    def wait(self, number: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll until the run's status is one of ``statuses`` (or fail at the deadline)."""
        seen: list[dict[str, Any]] = []

        def reached() -> dict[str, Any] | None:
            seen.append(self.run(number))
            return seen[-1] if seen[-1].get("status") in statuses else None

        return wait_until(
            reached, timeout, message=lambda: f"{number} stayed {seen[-1].get('status')}"
        )

    def wait_gone(self, number: str, timeout: float = 10.0) -> None:
        wait_until(
            lambda: self.run(number).get("success") is False,
            timeout,
            message=f"{number} was not deleted",
        )

    def completed_run(self, body: dict[str, Any] | None = None) -> str:
        number = self.create_run(body)
        self.wait(number, "Completed")
        return number

    def entries(self, number: str, **query: Any) -> list[dict[str, Any]]:
        response = self.http.get(
            f"/v1/journal-entries/journal-runs/{number}", params={"pageSize": 300, **query}
        )
        assert response.json()["success"], response.text
        entries: list[dict[str, Any]] = response.json()["journalEntries"]
        return entries

    def entry(self, number: str) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get(f"/v1/journal-entries/{number}").json()
        return body


def fetch_token(url: str, client_id: str, secret: str = "reference-secret") -> str:
    response = httpx.post(
        f"{url}/oauth/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
