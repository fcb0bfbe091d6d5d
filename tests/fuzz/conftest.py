"""Fixtures for the fuzz stage's tests: reference servers (clean or with one fault), each with a
minted token, and fuzz runs shared by the tests of one module so each budget is spent once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from conformance._catalogue import Catalogue, load_catalogue
from conformance.fuzz import FuzzOptions, FuzzResult, FuzzTarget, fuzz
from conformance.reference import ReferenceServer, ReferenceSettings

#: The budget of the determinism tests: small, every phase, a little legacy pass.
SMALL = FuzzOptions(max_examples=2, legacy_examples=1, min_scenarios=3)
#: Every token the tests minted, so that a test can check none of them leaked.
MINTED: list[str] = []


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@contextmanager
def reference_target(*faults: str) -> Iterator[FuzzTarget]:
    """A fresh reference (with ``faults``) and a target holding a token minted for it."""
    with ReferenceServer(ReferenceSettings(faults=frozenset(faults))) as server:
        token = server.mint_token("fuzz-tests")
        MINTED.append(token)
        yield FuzzTarget(server.url, headers={"Authorization": f"Bearer {token}"})


FuzzRunner = Callable[..., FuzzResult]


@pytest.fixture(scope="session")
def fuzz_reference(catalogue: Catalogue) -> FuzzRunner:
    """``fuzz_reference(*faults, options=...)``: fuzz a fresh reference; the server is stopped
    before the outcome is returned."""

    def run(*faults: str, options: FuzzOptions = SMALL) -> FuzzResult:
        with reference_target(*faults) as target:
            return fuzz(catalogue, target, options)

    return run
