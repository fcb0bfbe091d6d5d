"""How much the scenario engine costs over plain HTTP.

Runs the whole scenario library against the embedded reference (no lifecycle delays), then replays
the very requests the engine sent, in a plain ``httpx`` loop with the same concurrency (one fresh
tenant per scenario, requests in order), and prints wall times, request counts and their ratio.

The engine also waits where a scenario polls (a run held Processing by ``X-Reference-Hold`` is
polled for seconds); the replay does not, so the ratio is also given for the scenarios that hold
nothing. Usage: ``python benchmarks/bench_scenarios.py [--concurrency N]``.
"""

from __future__ import annotations

import argparse
import gzip
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from conformance._catalogue import load_catalogue
from conformance._http import HttpSettings
from conformance._results import CheckResult, Exchange, Status
from conformance._tenants import FreshTenants
from conformance.reference import ReferenceServer, ReferenceSettings
from conformance.scenarios import Scenario, load_scenarios, run_scenarios


def engine(
    url: str, scenarios: list[Scenario], concurrency: int
) -> tuple[float, int, list[CheckResult]]:
    catalogue = load_catalogue()
    with FreshTenants(HttpSettings(base_url=url, run_id="jrc-bench")) as tenants:
        started = time.perf_counter()
        results = run_scenarios(catalogue, scenarios, tenants, concurrency=concurrency)
        wall = time.perf_counter() - started
        return wall, tenants.requests_sent, results


def replay(url: str, results: list[CheckResult], concurrency: int) -> tuple[float, int]:
    """Send every recorded exchange again, scenario by scenario, with plain httpx."""
    client = httpx.Client(timeout=30.0)

    def one(result: CheckResult) -> int:
        token = client.post(
            f"{url}/oauth/token",
            data={
                "client_id": str(uuid.uuid4()),
                "client_secret": "reference-secret",
                "grant_type": "client_credentials",
            },
        ).json()["access_token"]
        for exchange in result.evidence:
            if exchange.url.endswith("/oauth/token"):  # minted above, as the engine did
                continue
            client.request(
                exchange.method,
                exchange.url,
                headers=_headers(exchange, token),
                content=_body(exchange),
            )
        return sum(not e.url.endswith("/oauth/token") for e in result.evidence) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        sent = sum(pool.map(one, results))
    wall = time.perf_counter() - started
    client.close()
    return wall, sent


def _headers(exchange: Exchange, token: str) -> dict[str, str]:
    headers = dict(exchange.request_headers)
    if headers.get("Authorization") == "Bearer [REDACTED]":
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _body(exchange: Exchange) -> bytes | None:
    if exchange.request_body is None:
        return None
    raw = exchange.request_body.encode("utf-8")
    encoding = {k.lower(): v for k, v in exchange.request_headers.items()}.get("content-encoding")
    return gzip.compress(raw) if encoding == "gzip" else raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    catalogue = load_catalogue()
    library = load_scenarios(catalogue=catalogue)
    no_holds = [s for s in library if "reference-controls" not in s.capabilities]
    with ReferenceServer(ReferenceSettings(delay=0)) as server:
        for label, scenarios in (("whole library", library), ("without holds", no_holds)):
            wall, requests, results = engine(server.url, scenarios, args.concurrency)
            plain_wall, plain_requests = replay(server.url, results, args.concurrency)
            passed = sum(r.status is Status.PASS for r in results)
            print(f"{label}: {len(scenarios)} scenarios, {passed} passed")
            print(
                f"  engine       wall {wall:6.2f} s  requests {requests:5d}"
                f"  ({requests / wall:6.0f} req/s)"
            )
            print(
                f"  plain httpx  wall {plain_wall:6.2f} s  requests {plain_requests:5d}"
                f"  ({plain_requests / plain_wall:6.0f} req/s)"
            )
            print(f"  engine / plain: {wall / plain_wall:.2f}")


if __name__ == "__main__":
    main()
