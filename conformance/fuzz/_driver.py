"""The fuzz stage: run schemathesis on the spec and judge what it sent and got back.

schemathesis generates and sends the requests and runs its built-in checks; the suite reads its
event stream, turns every recorded exchange into an :class:`~._observe.Observation` in the order
it happened, and judges it by the Journal Runs rules (:mod:`._checks`). The rules are not
registered as schemathesis checks on purpose: a registered check is global to the process (it
would also run in the benchmark's plain run, or a user's own schemathesis tests), its failures
would make Hypothesis shrink and replay (so a broken server would get a different request
sequence than a conforming one), and the lifecycle model needs one ordered stream of exchanges,
which the recorded scenarios give in the main thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .. import _paths as paths
from .._catalogue import Catalogue
from .._exceptions import SetupError, TransportError
from .._http import Request, Session
from .._redact import Redactor
from .._results import CheckResult
from . import _builtins
from ._away import Away, Part, split
from ._execute import Observer, run_passes
from ._judge import ENGINE_CHECK, Judge, Recorder, Sent
from ._options import FuzzOptions, FuzzTarget
from ._passes import Pass, passes
from ._registry import CUSTOM_CHECKS, FuzzCheck


@dataclass
class FuzzResult:
    """What the fuzz stage produced: the checks, plus figures for the run's stage record."""

    checks: list[CheckResult]
    requests: int
    wall_s: float
    sent: list[Sent] = field(default_factory=list)
    #: Why schemathesis stopped, per pass (``completed``, ``max_time``, ...).
    stop_reasons: dict[str, str] = field(default_factory=dict)
    #: Journal runs and manual entries the fuzzer created and did not see deleted, with the
    #: status each may be in: what a cleanup has to cancel and delete.
    not_deleted: dict[str, str] = field(default_factory=dict)
    #: Existing numbers the fuzz stage did not create, so never cancelled, deleted or changed.
    guarded: list[str] = field(default_factory=list)
    #: Runs the follow-through deleted and saw gone: nothing left for a cleanup to do.
    gone: list[str] = field(default_factory=list)
    #: What the passes on the :class:`SecondTenant` left there (``not_deleted``, ``gone``,
    #: ``requests``); their checks, ``sent`` and ``guarded`` are this result's.
    second: FuzzResult | None = None


def run_fuzz(
    catalogue: Catalogue, target: FuzzTarget, options: FuzzOptions | None = None
) -> list[CheckResult]:
    """Fuzz ``target`` from the catalogue's spec; one CheckResult per fuzz check.

    Raises :class:`~conformance._exceptions.SetupError` when the target cannot be tested at all:
    unreachable, or every answer a 401/403 (a wrong token).
    """
    return fuzz(catalogue, target, options).checks


@dataclass(frozen=True)
class SecondTenant:
    """A second tenant of the stage's own on the same target, and what sees what is done there.

    Given one, the stateful and legacy passes run there, in a process of their own, beside the
    stage's other passes (:mod:`._away`): only for tenants that are free and the suite's own (the
    embedded reference), since what that process creates reaches ``observe`` when it is done,
    and unpaced: the process cannot share the stage's pacer (``target.pacer`` is not used).
    """

    target: FuzzTarget
    observe: Observer | None = None


def fuzz(
    catalogue: Catalogue,
    target: FuzzTarget,
    options: FuzzOptions | None = None,
    *,
    observe: Observer | None = None,
    stop: threading.Event | None = None,
    record: Recorder | None = None,
    preflight: CheckResult | None = None,
    alongside: Callable[[], None] | None = None,
    second: SecondTenant | None = None,
) -> FuzzResult:
    """:func:`run_fuzz` with the figures: request count, wall time and the requests sent.

    ``observe`` sees every exchange as it happens; setting ``stop`` ends the stage after the
    schemathesis scenario under way; ``record`` gets every recorded exchange with its
    verdicts. ``preflight``: the run's own preflight check, already passed against this target
    (then the stage sends none of its own). ``alongside`` (the run's scenario stage) runs in a
    thread of its own: on a shared tenant once the passes that may create a journal run are
    done and their runs followed through, beside the passes that create none; on a tenant of
    the stage's own (not ``shared_tenant``) from the start. The stage returns when both are
    done. ``second``: a second tenant of the stage's own, for passes in a second process.

    Every request of the stage (schemathesis's, its probe, the preflight, the guard's reads and
    the follow-through) goes through one :class:`~conformance._http.Session`: one set of caps,
    deadlines, pacing, redaction and credentials.
    """
    options = options or FuzzOptions()
    redactor = Redactor([target.token])
    started = time.perf_counter()
    with target.session(redactor) as session:
        if preflight is None:
            _preflight(target, session)
        return _fuzz(
            catalogue, target, options, session, started, observe, stop, record, alongside, second
        )


def _fuzz(
    catalogue: Catalogue,
    target: FuzzTarget,
    options: FuzzOptions,
    session: Session,
    started: float,
    observe: Observer | None,
    stop: threading.Event | None,
    record: Recorder | None,
    alongside: Callable[[], None] | None,
    second: SecondTenant | None,
) -> FuzzResult:
    deadline = None if options.max_time_s is None else time.monotonic() + options.max_time_s
    todo = passes(target, options)
    away: Away | None = None
    moved: list[Pass] = []
    if second is not None:
        todo, moved = split(todo)
        if moved:  # started first: it runs while this process runs the rest
            away = Away(catalogue.spec, second.target, options, moved, deadline)
    try:
        ran = run_passes(
            catalogue.spec,
            target,
            options,
            session,
            todo,
            deadline=deadline,
            observe=observe,
            stop=stop,
            record=record,
            alongside=alongside,
        )
        part = away.finish(stop) if away is not None else None
    finally:
        if away is not None:
            away.close()
    judge = ran.judge
    elsewhere = None
    if part is not None and second is not None:
        names = ", ".join(run.name for run in moved)
        elsewhere = _absorb(judge, part, second, record, names)
        ran.stop_reasons.update(part.stop_reasons)
    checks = judge.results(time.perf_counter() - started)
    return FuzzResult(
        checks=checks,
        # Every request the stage's session sent: schemathesis's (retries included), its probe,
        # the preflight, the guard's reads, the follow-through and any token request; and the
        # second process's.
        requests=session.requests_sent + (part.requests if part is not None else 0),
        wall_s=time.perf_counter() - started,
        sent=judge.sent,
        stop_reasons=ran.stop_reasons,
        not_deleted=judge.rules.left_behind(),
        guarded=judge.guarded,
        gone=ran.gone,
        second=elsewhere,
    )


def _absorb(
    judge: Judge, part: Part, second: SecondTenant, record: Recorder | None, names: str
) -> FuzzResult:
    """Add what the second process did to ``judge`` and the run's callbacks; what it left on its
    tenant."""
    for secret in part.secrets:
        judge.redactor.add(secret)
    if part.judgement is not None:
        judge.absorb(part.judgement)
    else:
        judge.engine_errors.append(f"{names} (second process): {part.error}")
    if second.observe is not None:
        for seen in part.observed:
            second.observe(*seen)
    if record is not None:
        for recorded in part.records:
            record(*recorded)
    return FuzzResult(
        checks=[],
        requests=part.requests,
        wall_s=0.0,
        not_deleted=part.not_deleted,
        gone=part.gone,
    )


def _preflight(target: FuzzTarget, session: Session) -> None:
    """One authenticated read, so a wrong base URL or token stops the stage before it starts
    (when the run's preflight has not done it already)."""
    try:
        response = session.do(
            Request("GET", paths.path(paths.GET_RUN, paths.NO_RUN), headers=dict(target.headers)),
            track="fuzz.preflight",
        )
    except TransportError as exc:
        raise SetupError(f"cannot reach {session.redactor.url(target.base_url)}: {exc}") from None
    if response.status_code in (401, 403):
        raise SetupError(_unauthorised_message(target, response.status_code))


def _unauthorised_message(target: FuzzTarget, status: int) -> str:
    what = "the credentials were refused" if target.auth else "no bearer token was sent"
    return (
        f"every answer was HTTP {status}: {what} by {target.base_url}; "
        "check --token / JR_TOKEN (nothing was fuzzed)"
    )


def fuzz_checks() -> Iterator[FuzzCheck]:
    """Every fuzz check, custom and built-in group, in report order."""
    yield from CUSTOM_CHECKS
    yield from _builtins.BUILTIN_GROUPS
    yield ENGINE_CHECK
