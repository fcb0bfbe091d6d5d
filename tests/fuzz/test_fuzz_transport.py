"""The fuzz stage sends through the suite's session: client credentials (fetched and refreshed
there, never handed to schemathesis) and one count of every request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance._catalogue import Catalogue
from conformance._http import ClientCredentials, Session
from conformance._results import Exchange, Status
from conformance.fuzz import FuzzOptions, FuzzTarget, fuzz
from conformance.reference import ReferenceServer, ReferenceSettings

SECRET = "fuzz-transport-secret"


def test_client_credentials_are_fetched_and_refreshed_by_the_session(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens: list[str] = []
    fetch = Session._fetch_token

    def spy(self: Session, *args: Any, **kwargs: Any) -> Any:
        token = fetch(self, *args, **kwargs)
        tokens.append(token.value)
        return token

    monkeypatch.setattr(Session, "_fetch_token", spy)
    recorded: list[Exchange] = []
    # A token lives 61.5 s, and the session renews it a minute early: every 1.5 s.
    settings = ReferenceSettings(client_secret=SECRET, token_lifetime=61.5)
    options = FuzzOptions(max_examples=2, phases=("examples", "coverage"), legacy_examples=0)
    with ReferenceServer(settings) as server:
        target = FuzzTarget(server.url, auth=ClientCredentials("fuzz-tests", SECRET))
        outcome = fuzz(
            catalogue, target, options, record=lambda exchange, *_: recorded.append(exchange)
        )
    assert len(tokens) >= 2, tokens  # the stage outlived its first token
    checks = {check.id: check for check in outcome.checks}
    for check_id in ("fuzz.auth", "fuzz.engine", "fuzz.error-envelope"):
        assert checks[check_id].status is Status.PASS, checks[check_id].message
    evidence = json.dumps([exchange.__dict__ for exchange in recorded], default=str)
    assert recorded and not any(token in evidence for token in tokens)
    assert SECRET not in evidence
    # Every request of the stage, token requests included, is counted once.
    assert outcome.requests >= len(outcome.sent) + len(tokens)
