"""How much the fuzz stage costs on top of schemathesis itself.

Runs, against fresh embedded reference servers, with the same spec, budget and seed:

* the fuzz stage (``conformance.fuzz.fuzz``): preflight, schemathesis, and the Journal Runs
  rules judging every exchange into CheckResults (without its follow-through, which cancels and
  deletes what the fuzzer created: cleanup, which schemathesis alone does not do);
* schemathesis alone: the same prepared spec, the same configuration of every pass (stateful,
  main and legacy), the same hooks that shape the requests (stateful create seeding, the guard
  that keeps the fuzzer off what it did not create), so it sends the same requests, but its
  events are only drained, nothing is judged.

It prints both wall times, the request counts, the budget and seed, and their ratio (target:
at most 1.15). The ``st run`` command line is not used for the baseline: it cannot take the
stateful seeding hook, so it would send other requests and the ratio would compare different
work. Usage::

    python benchmarks/bench_fuzz.py [--max-examples 25] [--seed 0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from schemathesis.engine import events, from_schema

from conformance._catalogue import Catalogue, load_catalogue
from conformance._redact import Redactor
from conformance.fuzz import FuzzOptions, FuzzTarget, fuzz
from conformance.fuzz._guard import Guard
from conformance.fuzz._passes import load_pass, passes
from conformance.fuzz._spec_prep import prepare_spec
from conformance.reference import ReferenceServer, ReferenceSettings

TARGET_RATIO = 1.15


def fuzz_stage(catalogue: Catalogue, target: FuzzTarget, options: FuzzOptions) -> int:
    return fuzz(catalogue, target, options).requests


def schemathesis_alone(catalogue: Catalogue, target: FuzzTarget, options: FuzzOptions) -> int:
    spec = prepare_spec(catalogue.spec)
    guard = Guard(target, Redactor([target.token]))
    requests = 0
    for run in passes(target, options):
        for event in from_schema(load_pass(spec, target, options, run, guard)).execute():
            if isinstance(event, events.ScenarioFinished):
                requests += len(event.recorder.interactions)
    guard.close()
    return requests + guard.probes


Runner = Callable[[Catalogue, FuzzTarget, FuzzOptions], int]


def timed(runner: Runner, catalogue: Catalogue, options: FuzzOptions) -> tuple[float, int]:
    """Wall time and request count of one run against a fresh reference."""
    with ReferenceServer(ReferenceSettings()) as server:
        token = server.mint_token("bench")
        target = FuzzTarget(server.url, headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        requests = runner(catalogue, target, options)
        return time.perf_counter() - started, requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best counts")
    args = parser.parse_args(argv)
    # The follow-through (cancel and delete what the fuzzer created) is not schemathesis's work.
    options = FuzzOptions(max_examples=args.max_examples, seed=args.seed, follow_through=False)
    catalogue = load_catalogue()
    timed(schemathesis_alone, catalogue, FuzzOptions(max_examples=1, legacy_examples=0))  # warm-up
    stage: list[tuple[float, int]] = []
    alone: list[tuple[float, int]] = []
    for _ in range(args.repeat):
        alone.append(timed(schemathesis_alone, catalogue, options))
        stage.append(timed(fuzz_stage, catalogue, options))
    (stage_s, stage_requests), (alone_s, alone_requests) = min(stage), min(alone)
    ratio = stage_s / alone_s
    print(f"budget: {options.max_examples} examples per operation, seed {options.seed}, ", end="")
    print(f"phases {','.join(options.phases)}, legacy pass {options.legacy_examples} examples")
    print(f"fuzz stage:         {stage_s:7.2f} s  {stage_requests:6d} requests")
    print(f"schemathesis alone: {alone_s:7.2f} s  {alone_requests:6d} requests")
    print(f"ratio: {ratio:.3f} (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
