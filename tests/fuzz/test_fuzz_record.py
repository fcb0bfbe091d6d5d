"""The fuzz stage hands every exchange it recorded, redacted, with its verdicts to ``record``
(what exchanges.har is written from)."""

from __future__ import annotations

import json
from dataclasses import asdict

from conftest import MINTED, reference_target

from conformance._catalogue import Catalogue
from conformance._results import Exchange
from conformance.fuzz import FuzzOptions, fuzz
from conformance.report._har import FuzzSpool

#: A few seconds of every phase: enough exchanges, and a violation on each (the fault).
QUICK = FuzzOptions(max_examples=1, legacy_examples=1, min_scenarios=1, max_time_s=4)


def test_every_recorded_exchange_reaches_the_recorder_with_its_verdicts(
    catalogue: Catalogue,
) -> None:
    got: list[tuple[Exchange, list[tuple[str, str, bool]], str]] = []
    spool = FuzzSpool(catalogue.levels, {"fuzz.request-id", "fuzz.error-envelope"})

    def record(exchange: Exchange, verdicts: list[tuple[str, str, bool]], context: str) -> None:
        got.append((exchange, verdicts, context))
        spool.add(exchange, verdicts, context)

    with reference_target("request-id-hex") as target:
        outcome = fuzz(catalogue, target, QUICK, record=record)
    schemathesis = [g for g in got if g[2] != "follow-through"]
    assert len(schemathesis) == len(outcome.sent) > 0  # one per recorded exchange
    assert len(got) <= outcome.requests
    assert all(context for _, _, context in got)  # the pass and phase, e.g. "stateful"
    # Every answer lacks a proper Zuora-Request-Id: each judged exchange carries that verdict.
    judged = [verdicts for _, verdicts, _ in got if verdicts]
    assert judged
    assert all(("fuzz.request-id", "JR-HEADERS-007", False) in v for v in judged)
    # Redacted like every other piece of evidence.
    text = json.dumps([asdict(exchange) for exchange, _, _ in got])
    assert MINTED[-1] not in text

    entries = [json.loads(line) for line in spool.entries()]
    assert len(entries) == spool.count == len(got)
    failing = [e for e in entries if e["_check"] == "fuzz.request-id"]
    assert failing and all(e["_status"] == "warn" for e in failing)  # JR-HEADERS-007 is a SHOULD
    assert all(set(e["_checks"]) <= {"fuzz.request-id", "fuzz.error-envelope"} for e in entries)
    spool.close()
