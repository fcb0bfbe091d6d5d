"""After schemathesis: the runs the fuzzer created, cancelled and deleted, judged by the rules.

Only one journal run executes at a time per tenant. Against a target whose runs take seconds (any
real sandbox), the stateful phase gets one run accepted and then only refusals, so it follows
few runs through a cancel or a delete, and the cancel and delete rules would have little or
nothing to judge. Those runs have to be cleaned up anyway: doing it here, with the cleanup's
patient state machine (:class:`~conformance._cleanup.Cleaner`, which waits out Processing and
cancels only from a cancellable status), puts each of those exchanges in front of the same rules.

They are judged, but they are not schemathesis's requests: they stay out of ``sent`` (the
sequence a seed reproduces), because how many reads a wait takes depends on the target's speed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from .._cleanup import AT_ONCE, Cleaner
from .._http import Request, Response, Session
from .._ledger import RUN, Item
from .._paths import match_path
from .._validate import operations
from ._observe import Observation
from ._options import FuzzTarget, Stop

#: The pass and phase name follow-through observations carry in the evidence.
FOLLOW_THROUGH = "follow-through"


def follow_through(
    spec: Mapping[str, Any],
    target: FuzzTarget,
    runs: Sequence[str],
    judge: Callable[[Observation], None],
    session: Session,
    *,
    identity: str | None,
    wait_s: float,
    stop: Stop | None = None,
) -> tuple[int, list[str]]:
    """Cancel and delete ``runs`` (newest first) through the stage's ``session``, passing every
    exchange to ``judge`` (``identity``: what the rules know the stage's own ``Authorization``
    by); returns the requests sent and the runs now gone. What is not gone is left to the run's
    cleanup."""
    matcher = _Matcher(spec, target.base_url)
    before = session.requests_sent
    judging = threading.Lock()  # the runs are followed at once; the rules take one at a time

    def seen(request: Request, response: Response | None) -> None:
        if response is not None:
            observation = _observation(request, response, matcher, identity)
            with judging:
                judge(observation)

    def follow(number: str) -> str | None:
        if stop is not None and stop.is_set():
            return None
        item = Item(target.run_id, target.base_url, "fuzz", RUN, number, created_at="")
        return number if Cleaner(session, wait_s=wait_s).clean(item).cleaned else None

    session.observers.append(seen)
    try:
        # The runs are the stage's own and settled: their cancels and deletes wait out their
        # transitions side by side, not one run after another.
        with ThreadPoolExecutor(max_workers=max(1, min(AT_ONCE, len(runs)))) as pool:
            gone = [number for number in pool.map(follow, reversed(runs)) if number]
    finally:
        session.observers.remove(seen)
    return session.requests_sent - before, gone


class _Matcher:
    """Which operation of the spec a method and URL are, and with which path parameters."""

    def __init__(self, spec: Mapping[str, Any], base_url: str) -> None:
        self._base_path = urlsplit(base_url).path.rstrip("/")
        self._operations = operations(spec)

    def match(self, method: str, url: str) -> tuple[str | None, dict[str, str]]:
        path = urlsplit(url).path
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path) :]
        for operation_id, (wanted, template) in self._operations.items():
            params = match_path(template, path) if wanted.upper() == method.upper() else None
            if params is not None:
                return operation_id, params
        return None, {}


def _observation(
    request: Request, response: Response, matcher: _Matcher, identity: str | None
) -> Observation:
    operation_id, params = matcher.match(response.method, response.url)
    sent = {name.lower(): value for name, value in response.exchange.request_headers.items()}
    if identity is not None and "authorization" in sent:
        sent["authorization"] = identity  # the evidence shows it redacted; the rules compare it
    body = None
    if request.json is not None:
        body = json.dumps(request.json, separators=(",", ":")).encode("utf-8")
    return Observation(
        index=-1,
        pass_name=FOLLOW_THROUGH,
        phase=FOLLOW_THROUGH,
        operation_id=operation_id,
        method=response.method,
        url=response.url,
        path_parameters=params,
        request_headers=sent,
        request_body=body,
        status=response.status_code,
        response_headers={name.lower(): value for name, value in response.headers.items()},
        response_body=response.content,
        elapsed_s=response.elapsed_ms / 1000,
    )
