"""Every performance figure of the suite, each beside its target, PASS or MISS.

    python benchmarks/bench_run.py [--only full,engine,...] [--repeat N] [--quick]

The figures (all against the reference server, on this machine):

* ``full``: the default run (preflight, every scenario, fuzzing at the default budget, cleanup)
  against the embedded reference with zero delays, reports included, in a fresh interpreter as
  ``jr-conformance run`` does it; split into start-up, scenarios, fuzzing, cleanup and reports
  (a stage that ran within another, as the scenarios within fuzzing, is counted once).
  Target: <= 12 s (issue 14).
* ``engine``: the scenario engine's wall time over a plain httpx loop sending the same requests
  (``bench_scenarios``; the scenarios that hold nothing, so neither side waits; 8 at a time),
  with the reference in its own process as any real target is. Target: <= 1.3. The same with
  the reference in this process is shown as a detail (there, every bit of client CPU also
  stalls the server, which shares the interpreter lock).
* ``polling``: how late a polling step notices a state change. Runs are created held Processing
  for 0.1-4 s (``X-Reference-Hold``) and polled until Completed; the server logs when each
  change was due and when it first answered Completed. Target: the lateness is at most 50 ms +
  10% of the time already waited, at the 95th percentile.
* ``delay``: requests of the full run against a reference with a 2 s transition delay over the
  same run with none (the ``full`` run's count). Target: <= 1.5.
* ``concurrency``: the scenario library on 8 tenants at once over one at a time, with 50 ms added
  to every request (an ASGI wrapper around the reference app). Target: >= 4.
* ``rate``: ``--rate-limit 300/min``: the most requests a server saw in any 60 s window, for the
  suite against an external target (one configured tenant, as on a vendor sandbox) and for the
  scenario library on fresh tenants (as against the embedded reference). Each paced run is a
  child process, killed one window after its first request. Then a complete paced run shows the
  requests per stage its report states, beside the server's count. Target: <= 300.
* ``fuzz``: the fuzz stage over schemathesis alone, same spec, budget and seed (``bench_fuzz``),
  interleaved, best of 3. Target: <= 1.15. Both send the same requests; the stage's
  follow-through (it cancels and deletes, judged, what the fuzzer created: cleanup the run would
  do anyway) is timed apart, as a detail.
* ``sandbox``: the default run against the reference as a vendor sandbox looks (one configured
  tenant, default external capabilities, 1 s and 2 s transitions, 120 +- 40 ms added to every
  request): wall time beside its floor, requests, journal runs created, MUST verified. Targets
  (issue 14): <= 120 s with 1 s transitions, <= 12 runs, every MUST the tenant can show. Then one
  run on a tenant that also declares ``transfer-override`` and its earliest date: every MUST but
  what needs an ``Error`` run.

``--quick`` shrinks every measurement (a few scenarios, tiny budgets, short windows) so the script
can be smoke-tested in seconds; its numbers mean nothing. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import bench_fuzz
import bench_reference
import bench_scenarios
import uvicorn

from conformance._catalogue import Catalogue, load_catalogue
from conformance._config import load_config
from conformance._http import HttpSettings
from conformance._results import RunResult
from conformance._run import run
from conformance._tenants import DEFAULT_CAPABILITIES, FreshTenants
from conformance.fuzz import FuzzOptions
from conformance.reference import ReferenceSettings, create_app
from conformance.report import write_reports
from conformance.scenarios import Scenario, load_scenarios, run_scenarios
from conformance.scenarios._loader import parse_scenario

#: The default run against the embedded reference (the main job), reports included (issue 14).
FULL_WALL_S = 12.0

FIGURES = ("full", "engine", "polling", "delay", "concurrency", "rate", "fuzz", "sandbox")

# -- the figures and their targets -----------------------------------------------------------------


@dataclass
class Figure:
    """One printed line: a value and, unless it is only a detail, the target it is held to."""

    name: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None  # None: a detail, no target of its own
    note: str = ""

    def row(self) -> str:
        verdict = {None: "", True: "PASS", False: "MISS"}[self.passed]
        value = f"{self.value:.3g}" if abs(self.value) < 100 else f"{self.value:.0f}"
        text = f"{self.name:44} {value:>8} {self.unit:6} {self.target:12} {verdict}"
        return f"{text}  {self.note}".rstrip()


@dataclass
class Sizes:
    """How big each measurement is; ``--quick`` shrinks them all."""

    select: tuple[str, ...] = ()  # of the full run; () is everything, the default run
    max_examples: int = 10
    fuzz_phases: tuple[str, ...] | None = None  # of the fuzz figure; None: the default
    scenarios: int | None = None  # the first N scenarios of the library; None: all
    poll_waits: int = 96
    poll_holds: tuple[float, float] = (0.1, 4.0)
    delay_s: float = 2.0
    latency_s: float = 0.05
    rate_per_min: int = 300
    rate_window_s: float = 60.0
    rate_select: tuple[str, ...] = ("errors", "versions", "fuzz")
    rate_fuzz_s: float = 5.0  # max_time_s of the complete paced run's fuzz stage
    min_repeat: int = 3  # runs of the engine and fuzz figures at least (the best counts)
    # The sandbox figure: transition delays, and the latency added to every request (+- jitter).
    sandbox_delays: tuple[float, ...] = (1.0, 2.0)
    sandbox_latency_s: tuple[float, float] = (0.12, 0.04)
    sandbox_select: tuple[str, ...] = ()  # () is everything, the default run


QUICK = Sizes(
    select=("create-with-period",),
    max_examples=1,
    fuzz_phases=("examples",),
    scenarios=4,
    poll_waits=4,
    poll_holds=(0.05, 0.3),
    delay_s=0.3,
    latency_s=0.02,
    rate_window_s=3.0,
    rate_select=("not-found-runs",),
    rate_fuzz_s=1.0,
    min_repeat=1,
    sandbox_delays=(0.2,),
    sandbox_latency_s=(0.01, 0.005),
    sandbox_select=("create-with-period", "not-found-runs"),
)


def say(text: str, end: str = "\n") -> None:
    """Progress, on stderr (the figures go to stdout)."""
    print(text, file=sys.stderr, end=end, flush=True)


# -- a reference that is slower, or logs what it served ------------------------------------------


@dataclass
class Served:
    """One request as the instrumented server handled it (times from ``time.time()``)."""

    arrived: float
    answered: float
    method: str
    path: str
    tenant: str  # the Authorization header: which tenant asked (never printed)
    status: str | None  # a journal run's status in the answer, if it carries one
    hold: float | None = None  # X-Reference-Hold of a create


class Instrumented:
    """ASGI middleware around the reference app: waits ``latency_s`` before each request and
    logs every request with the run status it answered."""

    def __init__(self, app: Any, latency_s: float = 0.0, jitter_s: float = 0.0) -> None:
        self.app = app
        self.latency_s = latency_s
        #: Each request waits ``latency_s`` +- up to ``jitter_s`` (uniform, seeded: repeatable).
        self.jitter_s = jitter_s
        self._random = random.Random(14)
        self.log: list[Served] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan: the reference's background clock
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        if self.latency_s:
            jitter = self._random.uniform(-self.jitter_s, self.jitter_s)
            await asyncio.sleep(max(0.0, self.latency_s + jitter))
        body = bytearray()

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.log.append(
            Served(
                arrived,
                time.time(),
                scope["method"],
                scope["path"],
                headers.get("authorization", ""),
                _run_status(bytes(body)),
                float(headers["x-reference-hold"]) if "x-reference-hold" in headers else None,
            )
        )


def _run_status(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


@contextmanager
def instrumented(
    settings: ReferenceSettings, latency_s: float = 0.0, jitter_s: float = 0.0
) -> Iterator[tuple[str, Any]]:
    """The reference wrapped in :class:`Instrumented`, served by uvicorn on 127.0.0.1 (free port)
    from a thread: yields its URL and the wrapper (whose ``log`` fills as requests are served)."""
    app = Instrumented(create_app(settings), latency_s, jitter_s)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the reference does
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(app, log_level="error", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SystemExit("the instrumented reference did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# -- full: the default run, in a fresh interpreter ---------------------------------------------

# What ``jr-conformance run`` does (load the config, run, write the reports), timed from inside.
_CHILD = """
import json, sys, time
started = time.perf_counter()
from conformance._config import load_config
from conformance._run import run
from conformance.report import write_reports
imported = time.perf_counter()
config = load_config(json.loads(sys.argv[1]), env={})
result = run(config)
ran = time.perf_counter()
write_reports(result, config.reports_dir, config.formats)
done = time.perf_counter()
print(json.dumps({
    "imports": imported - started,
    "run": ran - imported,
    "reports": done - ran,
    "stages": {s.name: [s.wall_s, s.requests] for s in result.stages},
    "within": {s.name: s.within for s in result.stages if s.within},
    "status": result.status.label,
    "checks": len(result.checks),
}))
"""


def full_run(sizes: Sizes, repeat: int) -> tuple[list[Figure], dict[str, Any]]:
    """The default run in a child process; the best of ``repeat`` by total wall time."""
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as reports:
            flags: dict[str, Any] = {"reports_dir": reports, "progress": "quiet"}
            if sizes.select:
                flags["select"] = list(sizes.select)
            started = time.perf_counter()
            child = subprocess.run(
                [sys.executable, "-c", _CHILD, json.dumps(flags)],
                capture_output=True,
                text=True,
                check=False,
            )
            total = time.perf_counter() - started
        if child.returncode != 0:
            raise SystemExit(f"the full run failed:\n{child.stderr}")
        data = json.loads(child.stdout.splitlines()[-1])
        data["total"] = total
        say(f"  full run: {total:.2f} s ({data['status']}, {data['checks']} checks)")
        runs.append(data)
    best = min(runs, key=lambda d: d["total"])
    stage = {name: wall for name, (wall, _) in best["stages"].items()}
    parts = {
        "scenarios": stage.get("scenarios", 0.0),
        "fuzzing": stage.get("fuzz", 0.0),
        "cleanup": stage.get("cleanup", 0.0),
        "reports": best["reports"],
    }
    # A stage that ran inside another (the scenarios, beside the fuzz stage) is in that one's
    # wall time already.
    within = {_STAGE_NAMES.get(name, name): outer for name, outer in best["within"].items()}
    startup = best["total"] - sum(wall for name, wall in parts.items() if name not in within)
    typical = statistics.median(d["total"] for d in runs)
    figures = [
        Figure(
            "full run: wall, reports included",
            best["total"],
            "s",
            f"<= {FULL_WALL_S:g}",
            best["total"] <= FULL_WALL_S,
            f"best of {repeat}, median {typical:.1f} s" if repeat > 1 else "",
        ),
        Figure(
            "  start-up",
            startup,
            "s",
            note=f"imports {best['imports']:.2f} s, reference, preflight, stop",
        ),
        *(
            Figure(f"  {name}", wall, "s", note=f"within {within[name]}" if name in within else "")
            for name, wall in parts.items()
        ),
    ]
    requests = sum(count for _, count in best["stages"].values())
    figures.append(Figure("  requests", requests, "", note=_per_stage(best["stages"])))
    return figures, best


#: The figure's name of a stage of the run, where they differ.
_STAGE_NAMES = {"fuzz": "fuzzing"}


def _per_stage(stages: dict[str, list[Any]]) -> str:
    return ", ".join(f"{name} {count}" for name, (_, count) in stages.items())


# -- engine: the scenario engine over plain httpx ----------------------------------------------


def engine_ratio(sizes: Sizes, library: list[Scenario], repeat: int) -> list[Figure]:
    """Against the reference in its own process (as any real target is) for the target, and in
    this process (the embedded default) as a detail: there every bit of client CPU also stalls
    the server, which shares the interpreter lock."""
    no_holds = [s for s in library if "reference-controls" not in s.capabilities]
    work = no_holds * 3  # a wall time of a second or so, not a tenth: less noise
    figures = []
    for in_process in (False, True):
        ratios = []
        with bench_reference._serve(in_process) as url:
            bench_scenarios.engine(url, no_holds[:8], 8)  # warm-up: imports, first connections
            for _ in range(repeat):
                wall, requests, results = bench_scenarios.engine(url, work, 8)
                plain, plain_requests = bench_scenarios.replay(url, results, 8)
                say(f"  engine {wall:.2f} s ({requests} requests), plain {plain:.2f} s", end="")
                say(f" ({plain_requests} requests)")
                ratios.append((wall / plain, wall, plain, requests))
        ratio, wall, plain, requests = min(ratios)
        note = f"{len(no_holds)} scenarios x 3, {requests} requests: {wall:.2f} s vs {plain:.2f} s"
        if repeat > 1:
            note += f"; median {statistics.median(r[0] for r in ratios):.2f}"
        if in_process:
            figures.append(Figure("  the same, reference in this process", ratio, "x", note=note))
        else:
            figures.append(
                Figure("scenario engine / plain httpx", ratio, "x", "<= 1.3", ratio <= 1.3, note)
            )
    return figures


# -- polling: how late a wait notices a change -----------------------------------------------------

_POLL = """
id: bench-poll-{index}
title: A held run is polled until it completes
requirements: [JR-RETRIEVE-006]
capabilities: [reference-controls]
steps:
  - name: create-held
    operation: POST_JournalRun
    headers: {{X-Reference-Hold: "{hold:.3f}"}}
    body:
      accountingPeriodName: Nov-2014
      journalEntryDate: "2014-11-04"
      transactionTypes: [{{type: Invoice Item}}]
    expect: {{status: 200}}
    save: {{run: /journalRunNumber}}
  - name: completes
    operation: GET_JournalRun
    path_params: {{jr-number: "${{run}}"}}
    repeat:
      until: {{body: {{/status: {{equals: Completed}}}}}}
      deadline_s: 60
"""


@dataclass
class Wait:
    waited_s: float  # from the first poll to the change
    late_s: float  # from the change to the answer that showed it


def polling(sizes: Sizes, catalogue: Catalogue) -> list[Figure]:
    rng = random.Random(9)
    low, high = sizes.poll_holds
    holds = [rng.uniform(low, high) for _ in range(sizes.poll_waits)]
    scenarios = [
        parse_scenario(_POLL.format(index=i, hold=h), catalogue=catalogue, source=f"poll-{i}")
        for i, h in enumerate(holds)
    ]
    with (
        instrumented(ReferenceSettings(delay=0)) as (url, app),
        FreshTenants(HttpSettings(base_url=url, run_id="jrc-bench")) as tenants,
    ):
        results = run_scenarios(catalogue, scenarios, tenants, concurrency=8)
    failed = [r for r in results if r.status.label != "pass"]
    if failed:
        raise SystemExit(f"a polling scenario did not pass: {failed[0].message}")
    waits = _waits(app.log)
    # Within 50 ms + 10% of the time already waited: what is left once 10% is allowed for.
    excess = sorted(w.late_s - 0.1 * w.waited_s for w in waits)
    late = sorted(w.late_s for w in waits)
    p95 = _p95(excess)
    within = sum(e <= 0.05 for e in excess)
    return [
        Figure(
            "polling: lateness - 10% of waited, p95",
            p95 * 1000,
            "ms",
            "<= 50",
            p95 <= 0.05,
            f"{within}/{len(waits)} waits within 50 ms + 10%",
        ),
        Figure(
            "  lateness p50 / p95 / max",
            _p95(late) * 1000,
            "ms",
            note=f"p50 {statistics.median(late) * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms, "
            f"holds {low:g}-{high:g} s",
        ),
        Figure(
            "  polls per wait",
            statistics.mean(w for w in _polls(app.log)),
            "",
            note="mean GETs per held run",
        ),
    ]


def _by_tenant(log: Sequence[Served]) -> dict[str, list[Served]]:
    tenants: dict[str, list[Served]] = {}
    for served in sorted(log, key=lambda s: s.arrived):
        if served.path.startswith("/v1/journal-runs"):
            tenants.setdefault(served.tenant, []).append(served)
    return tenants


def _waits(log: Sequence[Served]) -> list[Wait]:
    """One wait per tenant. The change is due ``hold`` after the create arrived: a bound a
    millisecond or so early (the server reads its clock after that), so lateness is if anything
    overstated."""
    waits = []
    for requests in _by_tenant(log).values():
        create = next(s for s in requests if s.method == "POST")
        assert create.hold is not None
        polls = [s for s in requests if s.method == "GET"]
        seen = next(s for s in polls if s.status == "Completed")
        change = create.arrived + create.hold
        waits.append(Wait(change - polls[0].arrived, seen.answered - change))
    return waits


def _polls(log: Sequence[Served]) -> list[int]:
    return [sum(s.method == "GET" for s in r) for r in _by_tenant(log).values()]


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# -- delay: requests sent when every transition takes 2 s ---------------------------------------


def delay_ratio(sizes: Sizes, baseline: dict[str, Any]) -> list[Figure]:
    """The full run again, in this process, against a reference with ``delay_s`` per step;
    ``baseline`` is the zero-delay run of ``full`` (same configuration)."""
    with tempfile.TemporaryDirectory() as reports:
        flags: dict[str, Any] = {"reports_dir": reports, "progress": "quiet"}
        if sizes.select:
            flags["select"] = list(sizes.select)
        started = time.perf_counter()
        result = run(load_config(flags, env={}), reference=ReferenceSettings(delay=sizes.delay_s))
        wall = time.perf_counter() - started
    slow = result.requests_sent()
    fast = sum(count for _, count in baseline["stages"].values())
    ratio = slow / fast
    say(f"  delay {sizes.delay_s:g} s: {slow} requests in {wall:.1f} s ({result.status.label})")
    stages = {s.name: [s.wall_s, s.requests] for s in result.stages}
    return [
        Figure(
            f"requests at {sizes.delay_s:g} s delay / no delay",
            ratio,
            "x",
            "<= 1.5",
            ratio <= 1.5,
            f"{slow} vs {fast}",
        ),
        Figure(
            f"  requests per stage at {sizes.delay_s:g} s",
            slow,
            "",
            note=f"{_per_stage(stages)}; wall {wall:.0f} s",
        ),
    ]


# -- concurrency: 8 tenants against a slow server -----------------------------------------------


def concurrency(sizes: Sizes, library: list[Scenario]) -> list[Figure]:
    walls = {}
    with instrumented(ReferenceSettings(delay=0), sizes.latency_s) as (url, _):
        for workers in (1, 8):
            wall, requests, results = bench_scenarios.engine(url, library, workers)
            passed = sum(r.status.label == "pass" for r in results)
            say(f"  {workers} tenant(s): {wall:.2f} s, {requests} requests, {passed} passed")
            walls[workers] = wall
    speedup = walls[1] / walls[8]
    latency = f"{sizes.latency_s * 1000:g} ms"
    return [
        Figure(
            f"8 tenants / 1 at a time, {latency} latency",
            speedup,
            "x",
            ">= 4",
            speedup >= 4,
            f"{walls[1]:.1f} s vs {walls[8]:.1f} s, {len(library)} scenarios",
        )
    ]


# -- rate: a paced run against an external target ---------------------------------------------


# A paced run in a child process, so that it can be ended after one window (a paced run of
# the whole suite takes many minutes; cleaning up what fuzzing made takes most of them).
_PACED = """
import json, sys
args = json.loads(sys.argv[1])
if args["mode"] == "run":
    from conformance._config import load_config
    from conformance._run import run
    run(load_config(args["flags"], env=args["env"]))
else:
    from conformance._catalogue import load_catalogue
    from conformance._http import HttpSettings
    from conformance._tenants import DEFAULT_CAPABILITIES, FreshTenants
    from conformance.scenarios import load_scenarios, run_scenarios
    catalogue = load_catalogue()
    library = load_scenarios(catalogue=catalogue)[: args["scenarios"]]
    settings = HttpSettings(args["url"], run_id="jrc-bench", rate_limit_per_min=args["per_min"])
    with FreshTenants(settings) as tenants:
        run_scenarios(catalogue, library, tenants, concurrency=8)
"""

_ENV = {"JR_CLIENT_ID": "bench-rate-limit", "JR_CLIENT_SECRET": "reference-secret"}


def rate_limit(sizes: Sizes) -> list[Figure]:
    """``--rate-limit N/min``: the most requests the server saw in any window of a minute.

    Two runs at once, each against its own reference behind the logging wrapper, each ended
    after a window and a little: the suite against an external target (one configured tenant,
    as on a vendor sandbox: preflight, scenarios, fuzzing), and the scenario library on fresh
    tenants, 8 at a time, as against the embedded reference. Then a complete paced run (a
    higher rate, a small selection) shows the requests per stage the report states."""
    per_min, window = sizes.rate_per_min, sizes.rate_window_s
    allowed = per_min * window / 60
    with (
        instrumented(ReferenceSettings(delay=0)) as (external_url, external),
        instrumented(ReferenceSettings(delay=0)) as (fresh_url, fresh),
        tempfile.TemporaryDirectory() as reports,
    ):
        flags = _paced_flags(external_url, per_min, sizes, reports)
        runs = [
            {"mode": "run", "flags": flags, "env": _ENV},
            {"mode": "fresh", "url": fresh_url, "per_min": per_min, "scenarios": sizes.scenarios},
        ]
        commands = [[sys.executable, "-c", _PACED, json.dumps(r)] for r in runs]
        _for_a_while(commands, window * 1.05, [external.log, fresh.log])
    figures = []
    for label, app in (("external target", external), ("fresh tenants", fresh)):
        # Sorted here: the log is appended to in the order requests finished.
        arrivals = sorted(s.arrived for s in app.log)
        peak = _peak(arrivals, window)
        span = arrivals[-1] - arrivals[0] if arrivals else 0.0
        figures.append(
            Figure(
                f"rate {per_min}/min, {label}: most in {window:g} s",
                peak,
                "",
                f"<= {allowed:g}",
                peak <= allowed,
                f"{len(arrivals)} requests in the first {span:.0f} s",
            )
        )
    return figures + _stages_stated(sizes)


def _paced_flags(
    url: str, per_min: float, sizes: Sizes, reports: str, **more: Any
) -> dict[str, Any]:
    """The configuration of a paced run of the small selection against an external target."""
    return {
        "base_url": url,
        "rate_limit_per_min": per_min,
        "select": list(sizes.rate_select),
        "max_examples": 1,
        "reports_dir": reports,
        "progress": "quiet",
        **more,
    }


def _for_a_while(commands: list[list[str]], seconds: float, logs: list[list[Served]]) -> None:
    """Run ``commands`` at once; kill those still running ``seconds`` after every one of them
    sent its first request (each to the server whose log is in ``logs``)."""
    with tempfile.TemporaryFile("w+") as errors:
        children = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=errors) for c in commands]
        try:
            started = time.monotonic()
            while not all(logs) and any(c.poll() is None for c in children):
                if time.monotonic() - started > 60:
                    raise SystemExit("a paced run sent nothing for a minute")
                time.sleep(0.05)
            deadline = time.monotonic() + seconds
            for child in children:
                with suppress(subprocess.TimeoutExpired):
                    child.wait(max(0.0, deadline - time.monotonic()))
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                child.wait()
        failed = [c for c in children if c.returncode not in (0, 1, -9)]
        if failed:
            errors.seek(0)
            raise SystemExit(f"a paced run failed ({failed[0].returncode}):\n{errors.read()}")


def _stages_stated(sizes: Sizes) -> list[Figure]:
    """A complete paced run against an external target: the requests per stage its report
    states, the server's count, and each stage's rate as the server saw it."""
    per_min = sizes.rate_per_min * 10
    with (
        instrumented(ReferenceSettings(delay=0)) as (url, app),
        tempfile.TemporaryDirectory() as reports,
    ):
        flags = _paced_flags(url, per_min, sizes, reports, max_time_s=sizes.rate_fuzz_s)
        result = run(load_config(flags, env=_ENV))
        write_reports(result, Path(reports), ("json",))
        stated = json.loads((Path(reports) / "results.json").read_text())["stages"]
    arrivals = sorted(s.arrived for s in app.log)
    return [
        Figure(
            "  requests per stage in the report",
            sum(s["requests"] for s in stated),
            "",
            note=", ".join(f"{s['name']} {s['requests']}" for s in stated)
            + f"; the server saw {len(arrivals)} (at {per_min}/min)",
        ),
        *_arrivals_by_stage(result, arrivals),
    ]


def _peak(arrivals: Sequence[float], window: float) -> int:
    """The most arrivals in any half-open window of ``window`` seconds."""
    peak, first = 0, 0
    for last, at in enumerate(arrivals):
        while arrivals[first] <= at - window:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def _arrivals_by_stage(result: RunResult, arrivals: Sequence[float]) -> list[Figure]:
    """Each stage's rate as the server saw it: the stages run back to back, so the server's log,
    cut by the stage request counts, gives each stage's requests a minute."""
    figures = []
    at = 0
    for stage in result.stages:
        mine = arrivals[at : at + stage.requests]
        at += stage.requests
        if len(mine) > 1:
            rate = (len(mine) - 1) / max(mine[-1] - mine[0], 1e-9) * 60
            note = f"{len(mine)} requests in {mine[-1] - mine[0]:.1f} s"
            figures.append(Figure(f"  {stage.name}: rate", rate, "/min", note=note))
    return figures


# -- fuzz: the stage over schemathesis alone -----------------------------------------------------


def fuzz_ratio(sizes: Sizes, catalogue: Catalogue, repeat: int) -> list[Figure]:
    """The stage's harness (judging, guard, observing) over schemathesis alone, both sending the
    same requests; the follow-through (cancel and delete of what the fuzzer created, judged,
    which the run's cleanup would otherwise send unjudged) is timed apart, as a detail."""
    options = FuzzOptions(max_examples=sizes.max_examples, follow_through=False)
    if sizes.fuzz_phases:
        options = replace(options, phases=sizes.fuzz_phases, legacy_examples=0)
    warm = FuzzOptions(max_examples=1, legacy_examples=0)
    bench_fuzz.timed(bench_fuzz.schemathesis_alone, catalogue, warm)
    stage, alone = [], []
    for _ in range(repeat):  # interleaved, so a busy moment hits both
        alone.append(bench_fuzz.timed(bench_fuzz.schemathesis_alone, catalogue, options))
        stage.append(bench_fuzz.timed(bench_fuzz.fuzz_stage, catalogue, options))
        say(f"  fuzz stage {stage[-1][0]:.2f} s, schemathesis alone {alone[-1][0]:.2f} s")
    (stage_s, stage_n), (alone_s, alone_n) = min(stage), min(alone)
    ratio = stage_s / alone_s
    full_s, full_n = bench_fuzz.timed(
        bench_fuzz.fuzz_stage, catalogue, replace(options, follow_through=True)
    )
    return [
        Figure(
            "fuzz stage / schemathesis alone",
            ratio,
            "x",
            "<= 1.15",
            ratio <= 1.15,
            f"{stage_s:.2f} s ({stage_n} req) vs {alone_s:.2f} s ({alone_n} req), "
            f"budget {options.max_examples}, seed {options.seed}",
        ),
        Figure(
            "  with the follow-through",
            full_s,
            "s",
            note=f"{full_n} requests: +{full_n - stage_n} to cancel and delete, judged, what "
            "the fuzzer created (the run's cleanup sends these anyway)",
        ),
    ]


# -- sandbox: one tenant, slow transitions, a latency per request -------------------------------

_SANDBOX_ENV = {"JR_CLIENT_ID": "bench-sandbox", "JR_CLIENT_SECRET": "reference-secret"}
#: Lifecycle steps a created run takes before it stops executing (Pending -> Processing ->
#: Completed); one run executes at a time per tenant, so these are waited one after another.
_STEPS_TO_SETTLE = 2
#: What a default run against one external tenant may cost (issue 14).
SANDBOX_WALL_S = {1.0: 120.0}
SANDBOX_RUNS = 12


@dataclass
class SandboxRun:
    wall_s: float
    requests: int
    runs: int
    verified: int
    must: int
    reachable: int
    concurrency: int
    stages: str
    #: MUSTs left unverified that the tenant could have shown.
    missed: list[str]


def sandbox(sizes: Sizes, catalogue: Catalogue, repeat: int) -> list[Figure]:
    """The default run against the reference as a vendor sandbox looks to the suite: one
    configured tenant, default external capabilities, transitions of ``delay`` s, and
    120 +- 40 ms added to every request. Beside each wall time, its floor: the transitions that
    must be waited one after another plus requests / concurrency x latency."""
    figures = []
    latency, jitter = sizes.sandbox_latency_s
    for delay in sizes.sandbox_delays:
        runs = [_sandbox_run(sizes, delay) for _ in range(repeat)]
        best = min(runs, key=lambda r: r.wall_s)
        typical = statistics.median(r.wall_s for r in runs)
        floor = best.runs * _STEPS_TO_SETTLE * delay + best.requests / best.concurrency * latency
        limit = SANDBOX_WALL_S.get(delay)
        figures += [
            Figure(
                f"sandbox {delay:g} s transitions: wall",
                best.wall_s,
                "s",
                "" if limit is None else f"<= {limit:g}",
                None if limit is None else best.wall_s <= limit,
                (f"best of {repeat}, median {typical:.0f} s; " if repeat > 1 else "")
                + f"floor {floor:.0f} s; {best.stages}",
            ),
            Figure(
                f"  {delay:g} s: requests",
                best.requests,
                "",
                note=f"+{latency * 1000:.0f} "
                f"+- {jitter * 1000:.0f} ms each, up to {best.concurrency} at once",
            ),
            Figure(
                f"  {delay:g} s: journal runs created",
                best.runs,
                "",
                f"<= {SANDBOX_RUNS}",
                best.runs <= SANDBOX_RUNS,
            ),
            Figure(
                f"  {delay:g} s: MUST verified",
                best.verified,
                f"/{best.must}",
                # A selection leaves requirements uncovered: then the count is only a detail.
                "" if sizes.sandbox_select else f">= {best.reachable}",
                None if sizes.sandbox_select else best.verified >= best.reachable,
                "target: all but what needs a capability the tenant lacks (an Error run, a "
                f"transfer): {best.must - best.reachable} of them"
                + (f"; also unverified: {', '.join(best.missed)}" if best.missed else ""),
            ),
        ]
    return figures


#: The tenant a user with every capability but the reference's test controls configures: the
#: override permission (transfer-override) and the tenant's earliest target date.
_SANDBOX_EARLIEST = "2014-01-01"
_FULL_FLAGS: dict[str, Any] = {
    "capabilities": [*DEFAULT_CAPABILITIES, "transfer-override"],
    "earliest_date": _SANDBOX_EARLIEST,
}


def sandbox_full(sizes: Sizes) -> list[Figure]:
    """MUST verified on one external tenant that declares ``transfer-override`` and its earliest
    target date, runs staying Pending/Processing for 1 s each: everything but what needs a run
    forced into ``Error`` (the reference's test controls). One run: a count, not a time."""
    if sizes.sandbox_select:
        return []
    best = _sandbox_run(sizes, 1.0, _FULL_FLAGS, earliest_date=_SANDBOX_EARLIEST)
    return [
        Figure(
            "sandbox + transfer-override, earliest date: MUST verified",
            best.verified,
            f"/{best.must}",
            f">= {best.reachable}",
            best.verified >= best.reachable,
            f"target: all but what needs an Error run: {best.must - best.reachable} of them"
            + (f"; also unverified: {', '.join(best.missed)}" if best.missed else "")
            + f"; {best.wall_s:.0f} s, {best.runs} runs",
        )
    ]


def _sandbox_run(
    sizes: Sizes,
    delay: float,
    extra: dict[str, Any] | None = None,
    *,
    earliest_date: str | None = None,
) -> SandboxRun:
    latency, jitter = sizes.sandbox_latency_s
    settings = ReferenceSettings(delay=delay, earliest_date=earliest_date)
    with (
        instrumented(settings, latency, jitter) as (url, _),
        tempfile.TemporaryDirectory() as reports,
    ):
        flags: dict[str, Any] = {"base_url": url, "reports_dir": reports, "progress": "quiet"}
        flags.update(extra or {})
        if sizes.sandbox_select:
            flags["select"] = list(sizes.sandbox_select)
        config = load_config(flags, env=_SANDBOX_ENV)
        started = time.perf_counter()
        result = run(config)
        wall = time.perf_counter() - started
    if result.setup_error:
        raise SystemExit(f"the sandbox run could not start: {result.setup_error}")
    score = result.score("MUST")
    stages = ", ".join(
        f"{s.name} {s.wall_s:.0f} s/{s.requests} req/{s.runs_created} runs" for s in result.stages
    )
    return SandboxRun(
        wall_s=wall,
        requests=result.requests_sent(),
        runs=result.runs_created(),
        verified=score.passed,
        must=score.total,
        reachable=score.total - len(result.unverifiable("MUST")),
        concurrency=config.concurrency,
        stages=stages,
        missed=[u.requirement.id for u in result.unverified("MUST") if not u.out_of_reach],
    )


# -- main --------------------------------------------------------------------------------------


@dataclass
class Bench:
    sizes: Sizes
    repeat: int
    catalogue: Catalogue = field(default_factory=load_catalogue)
    baseline: dict[str, Any] | None = None

    @property
    def at_least(self) -> int:
        return max(self.repeat, self.sizes.min_repeat)

    def library(self) -> list[Scenario]:
        scenarios = load_scenarios(catalogue=self.catalogue)
        return scenarios[: self.sizes.scenarios] if self.sizes.scenarios else scenarios

    def measure(self, name: str) -> list[Figure]:
        if name == "full":
            figures, self.baseline = full_run(self.sizes, self.repeat)
            return figures
        if name == "delay":
            if self.baseline is None:
                _, self.baseline = full_run(self.sizes, 1)
            return delay_ratio(self.sizes, self.baseline)
        measures: dict[str, Callable[[], list[Figure]]] = {
            "engine": lambda: engine_ratio(self.sizes, self.library(), self.at_least),
            "polling": lambda: polling(self.sizes, self.catalogue),
            "concurrency": lambda: concurrency(self.sizes, self.library()),
            "rate": lambda: rate_limit(self.sizes),
            "fuzz": lambda: fuzz_ratio(self.sizes, self.catalogue, self.at_least),
            "sandbox": lambda: [
                *sandbox(self.sizes, self.catalogue, self.repeat),
                *sandbox_full(self.sizes),
            ],
        }
        return measures[name]()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(FIGURES), help=f"comma-separated, of: {', '.join(FIGURES)}"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of full (and of engine, fuzz: 3 at least)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in FIGURES]
    if unknown or args.repeat < 1:
        parser.error(f"--only takes {', '.join(FIGURES)}; --repeat at least 1")
    bench = Bench(QUICK if args.quick else Sizes(), args.repeat)
    figures: list[Figure] = []
    for name in wanted:
        say(f"{name} ...")
        started = time.perf_counter()
        figures += bench.measure(name)
        say(f"{name}: {time.perf_counter() - started:.0f} s")
    print(f"{'figure':44} {'value':>8} {'unit':6} {'target':12} verdict")
    for figure in figures:
        print(figure.row())
    missed = [f.name for f in figures if f.passed is False]
    print(f"{len(missed)} target(s) missed" + (f": {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
