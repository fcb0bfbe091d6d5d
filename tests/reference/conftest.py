"""Fixtures for the reference server's tests: one shared server on a real socket, and a fresh
tenant (its own OAuth client) per test, so tests never see each other's runs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # _wait

from reference_support import STATIC_TOKEN, Tenant

from conformance.reference import ReferenceServer, ReferenceSettings


@pytest.fixture(scope="session")
def server() -> Iterator[ReferenceServer]:
    """The shared reference: legacy error style, no delay, one static token."""
    with ReferenceServer(ReferenceSettings(tokens=(STATIC_TOKEN,))) as running:
        yield running


@pytest.fixture
def tenant(server: ReferenceServer) -> Iterator[Tenant]:
    client = Tenant(server.url)
    yield client
    client.close()


@pytest.fixture
def make_server() -> Iterator[Callable[..., ReferenceServer]]:
    """Start extra servers with their own settings; all are stopped after the test."""
    started: list[ReferenceServer] = []

    def start(**settings: Any) -> ReferenceServer:
        running = ReferenceServer(ReferenceSettings(**settings))
        running.start()
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop()


@pytest.fixture
def make_tenant() -> Iterator[Callable[..., Tenant]]:
    made: list[Tenant] = []

    def make(server: ReferenceServer, **kwargs: Any) -> Tenant:
        client = Tenant(server.url, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
