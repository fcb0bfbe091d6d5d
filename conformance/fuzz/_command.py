"""What ``jr-conformance fuzz`` does besides parsing: pick the target and its bearer token, run the
stage, and put the outcome into lines for a terminal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from .._exceptions import ConfigError, SetupError
from .._http import Pacer
from .._results import Assertion, CheckResult, Status
from ._driver import FuzzOutcome
from ._options import FuzzTarget

#: The tenant the fuzz command uses on the embedded reference (each client id is a tenant).
REFERENCE_CLIENT_ID = "jr-conformance-fuzz"
#: The client secret the embedded reference accepts (not a secret: the reference is local).
REFERENCE_CLIENT_SECRET = "reference-secret"


@contextmanager
def command_target(
    base_url: str | None,
    token: str | None,
    *,
    run_id: str = "jrc-fuzz",
    rate_limit_per_min: float | None = None,
) -> Iterator[FuzzTarget]:
    """The target of ``jr-conformance fuzz``.

    With ``base_url``, the bearer token is ``token`` or the environment's ``JR_TOKEN``. Without
    it, the embedded reference server is started for the duration of the block and a token is
    minted at its ``/oauth/token`` (unless ``token`` is given, which is then used as is).
    ``rate_limit_per_min`` paces every request of the stage.
    """
    pacer = Pacer(rate_limit_per_min) if rate_limit_per_min else None
    if base_url is not None:
        bearer = token or os.environ.get("JR_TOKEN")
        if not bearer:
            raise ConfigError("fuzzing --base-url needs a bearer token: set JR_TOKEN or --token")
        yield FuzzTarget(base_url, headers=_bearer(bearer), run_id=run_id, pacer=pacer)
        return
    from ..reference import ReferenceServer, ReferenceSettings

    with ReferenceServer(ReferenceSettings()) as server:
        bearer = token or mint_token(server.url)
        yield FuzzTarget(server.url, headers=_bearer(bearer), run_id=run_id, pacer=pacer)


def mint_token(
    base_url: str,
    client_id: str = REFERENCE_CLIENT_ID,
    client_secret: str = REFERENCE_CLIENT_SECRET,
    timeout_s: float = 10.0,
) -> str:
    """A bearer token from ``POST {base_url}/oauth/token`` (client credentials)."""
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/oauth/token",
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "client_credentials",
            },
            timeout=timeout_s,
        )
        token = response.json().get("access_token") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise SetupError(f"cannot get a token from {base_url}/oauth/token: {exc}") from None
    if not isinstance(token, str) or not token:
        raise SetupError(
            f"{base_url}/oauth/token gave no access_token (HTTP {response.status_code})"
        )
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def outcome_lines(outcome: FuzzOutcome, *, seed: int, max_examples: int) -> Iterator[str]:
    """One line per check, its failed assertions below it, and a summary line."""
    width = max((len(check.id) for check in outcome.checks), default=0)
    for check in outcome.checks:
        message = _first_line(check.message)
        yield f"{check.status.label.upper():<5} {check.id:<{width}}  {message}".rstrip()
        if check.status is not Status.FAIL:
            continue
        for assertion in _examples(check):
            ids = ", ".join(assertion.requirement_ids)
            yield f"      {ids}: {_first_line(assertion.message)}"
            reproduce = assertion.message.rpartition("Reproduce: ")[2]
            if reproduce and reproduce != assertion.message:
                yield f"        {reproduce}"
    counts = {status: 0 for status in Status}
    for check in outcome.checks:
        counts[check.status] += 1
    summary = ", ".join(f"{n} {status.label}" for status, n in counts.items() if n)
    yield (
        f"{summary}; {outcome.requests} requests in {outcome.wall_s:.1f} s "
        f"(seed {seed}, {max_examples} examples per operation)"
    )


def exit_status(checks: list[CheckResult]) -> Status:
    """The worst status, for the exit code; an empty run is an error."""
    worst = Status.worst(check.status for check in checks)
    return Status.ERROR if worst is None else worst  # PASS is 0: no `or` here


def _examples(check: CheckResult, limit: int = 3) -> list[Assertion]:
    return [a for a in check.assertions if not a.passed and a.exchange is not None][:limit]


def _first_line(text: str) -> str:
    return next(iter(text.strip().splitlines()), "")
