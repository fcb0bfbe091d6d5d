"""One configured tenant: what creates no journal run shares it, up to the concurrency limit;
what creates one has it alone."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance._config import load_config
from conformance._http import BearerToken, HttpSettings
from conformance._tenants import SharedTenant, tenants_for

SETTINGS = HttpSettings(base_url="http://127.0.0.1:9", run_id="jrc-test")


class _Watch:
    """Counts who holds the tenant at once, and checks a creator is never beside anyone."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sharers = 0
        self.creators = 0
        self.most_sharers = 0
        self.overlaps: list[str] = []

    def enter(self, exclusive: bool) -> None:
        with self.lock:
            if exclusive:
                self.creators += 1
            else:
                self.sharers += 1
                self.most_sharers = max(self.most_sharers, self.sharers)
            if self.creators and (self.creators > 1 or self.sharers):
                self.overlaps.append(f"{self.creators} creator(s) beside {self.sharers} sharer(s)")

    def leave(self, exclusive: bool) -> None:
        with self.lock:
            if exclusive:
                self.creators -= 1
            else:
                self.sharers -= 1


def test_sharers_hold_the_tenant_together_up_to_the_limit() -> None:
    watch = _Watch()
    together = threading.Barrier(3, timeout=10)  # breaks unless three hold it at once

    def share(_: int) -> None:
        with tenant.acquire("reader", exclusive=False):
            watch.enter(False)
            together.wait()
            watch.leave(False)

    with (
        SharedTenant(SETTINGS, BearerToken("t0ken"), concurrency=3) as tenant,
        ThreadPoolExecutor(6) as pool,
    ):
        list(pool.map(share, range(6)))
    assert watch.most_sharers == 3  # never more than the limit, and the limit is reached


def test_a_creator_holds_the_tenant_alone() -> None:
    watch = _Watch()
    entered = threading.Event()

    def hold(exclusive: bool) -> None:
        with tenant.acquire("x", exclusive=exclusive):
            watch.enter(exclusive)
            entered.set()
            # Give the others every chance to get in beside it: they must not.
            threading.Event().wait(0.01)
            watch.leave(exclusive)

    with (
        SharedTenant(SETTINGS, BearerToken("t0ken"), concurrency=4) as tenant,
        ThreadPoolExecutor(8) as pool,
    ):
        list(pool.map(hold, [i % 3 == 0 for i in range(24)]))
    assert entered.is_set()
    assert watch.overlaps == []
    assert watch.creators == watch.sharers == 0


@pytest.mark.parametrize(("flags", "expected"), [({}, 8), ({"concurrency": 3}, 3)])
def test_the_concurrency_limit_is_configurable(flags: dict[str, int], expected: int) -> None:
    config = load_config({"base_url": "https://sandbox.example", **flags}, env={"JR_TOKEN": "t"})
    with tenants_for(config, run_id="jrc-test") as tenants:
        assert tenants.max_parallel == expected


def test_a_concurrency_below_one_is_a_configuration_error() -> None:
    from conformance._exceptions import ConfigError

    with pytest.raises(ConfigError, match="concurrency"):
        load_config({"concurrency": 0}, env={})
