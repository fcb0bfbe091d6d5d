"""The fuzz stage against the hostile servers of test_hostile.py: its requests go through the
suite's session, so a body past the cap, or one that decompresses past it, is cut exactly where
a scenario request's is (issue 15, "one HTTP path for every request")."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from _hostile import HostileServer
from conftest import TOKEN

from conformance._catalogue import Catalogue, load_catalogue
from conformance._http import HttpSettings
from conformance._results import Status
from conformance.fuzz import FuzzOptions, FuzzTarget, fuzz
from conformance.reference import ReferenceServer, ReferenceSettings

CAP = 1_000_000
TIMEOUT_S = 2.0
#: The examples phase only: every journal-entries operation is sent at least once.
OPTIONS = FuzzOptions(max_examples=1, phases=("examples",), legacy_examples=0, follow_through=False)
#: What the session says when it cuts a body (conformance/_http/_session.py, _bodies.py).
CUT = {
    "huge": f"response body exceeds {CAP} bytes",
    "gzip-bomb": f"gzip body decompresses beyond {CAP} bytes",
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceSettings(tokens=(TOKEN,))) as server:
        yield server


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.mark.parametrize("mode", sorted(CUT))
def test_a_fuzz_request_is_cut_at_the_scenarios_caps(
    mode: str, upstream: ReferenceServer, catalogue: Catalogue
) -> None:
    settings = HttpSettings(
        base_url="http://unused", max_body_bytes=CAP, max_decompressed_bytes=CAP
    )
    with HostileServer(upstream.url, mode) as hostile:
        target = FuzzTarget(
            hostile.url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            request_timeout_s=TIMEOUT_S,
            http=settings,
        )
        started = time.monotonic()
        outcome = fuzz(catalogue, target, OPTIONS)
        wall = time.monotonic() - started
        served = hostile.bytes_served
        sabotaged = sum(seen.sabotaged for seen in hostile.seen)
    assert sabotaged >= 3, sabotaged  # the journal-entries operations were fuzzed
    # As in test_hostile.py: the server never got to send more than a few caps' worth of a
    # multi-gigabyte body (what it wrote includes the sockets' buffers, not only what was read).
    assert served < 100 * CAP, (served, sabotaged)
    assert wall < 60, wall
    engine = {check.id: check for check in outcome.checks}["fuzz.engine"]
    assert engine.status is Status.ERROR
    assert CUT[mode] in engine.message, engine.message
    assert TOKEN not in engine.message
