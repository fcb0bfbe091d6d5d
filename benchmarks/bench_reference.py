"""Requests per second the reference server sustains on this machine.

    python benchmarks/bench_reference.py [--seconds 3] [--threads 4]

Measures GET /v1/journal-runs/{jr} and POST /v1/journal-runs (each create also completes the
previous run of its tenant: ten summary entries written), first with one client over a keep-alive
connection, then with several threads, each its own tenant and connection. The server is
``jr-conformance serve`` in its own process (in-memory SQLite, delay 0); ``--in-process`` runs it
in a thread of this process instead, as the suite's embedded default target does (the clients
then share the interpreter with it, so those figures are lower).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx

from conformance.reference import ReferenceServer, ReferenceSettings

BODY = {
    "accountingPeriodName": "Nov-2014",
    "journalEntryDate": "2014-11-04",
    "transactionTypes": [
        {"type": "Invoice Item"},
        {"type": "Electronic Payment"},
        {"type": "Taxation Item"},
    ],
}


def _client(url: str) -> httpx.Client:
    form = {
        "client_id": f"bench-{uuid.uuid4()}",
        "client_secret": "reference-secret",
        "grant_type": "client_credentials",
    }
    token = httpx.post(f"{url}/oauth/token", data=form).json()["access_token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _get(client: httpx.Client) -> Callable[[], None]:
    number = client.post("/v1/journal-runs", json=BODY).json()["journalRunNumber"]

    def call() -> None:
        response = client.get(f"/v1/journal-runs/{number}")
        assert response.status_code == 200 and response.json()["success"], response.text

    return call


def _create(client: httpx.Client) -> Callable[[], None]:
    def call() -> None:
        response = client.post("/v1/journal-runs", json=BODY)
        assert response.json()["success"], response.text

    return call


def _measure(
    url: str, make: Callable[[httpx.Client], Callable[[], None]], threads: int, seconds: float
) -> float:
    clients = [_client(url) for _ in range(threads)]
    calls = [make(client) for client in clients]
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    deadline = 0.0

    def work(index: int) -> None:
        start.wait()
        while time.perf_counter() < deadline:
            calls[index]()
            counts[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    for client in clients:
        client.close()
    return sum(counts) / elapsed


@contextlib.contextmanager
def _serve(in_process: bool) -> Iterator[str]:
    if in_process:
        with ReferenceServer(ReferenceSettings(rate_limit=10**9)) as server:
            yield server.url
        return
    command = [sys.executable, "-m", "conformance", "serve", "--rate-limit", str(10**9)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            found = re.search(r"http://[\d.]+:\d+", process.stdout.readline())
            if not found:
                raise SystemExit("the reference server did not start")
            yield found.group(0)
        finally:
            process.terminate()
            process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--threads", type=int, default=4, help="client threads for the second run")
    parser.add_argument(
        "--in-process", action="store_true", help="serve from a thread of this process"
    )
    args = parser.parse_args()
    with _serve(args.in_process) as url:
        where = "in this process" if args.in_process else "in its own process"
        print(f"reference at {url} ({where}); {args.seconds:g} s per measurement")
        operations = (("GET /v1/journal-runs/{jr}", _get), ("POST /v1/journal-runs", _create))
        for label, make in operations:
            for threads in (1, args.threads):
                rate = _measure(url, make, threads, args.seconds)
                what = "1 client, keep-alive" if threads == 1 else f"{threads} threads"
                print(f"{label:28} {what:22} {rate:8.0f} requests/s")


if __name__ == "__main__":
    main()
