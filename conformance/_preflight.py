"""Preflight: is the setup broken, or can the implementation be judged?

One harmless request tells the two apart before anything is created. A broken setup
(unreachable, TLS, refused credentials, a base URL that is not the API) is a *setup error*, said in
one line; anything else is left for the checks to judge.

Before a run that writes to an external tenant, :func:`check_idle` makes sure no journal run the
suite did not create is executing there: only one runs at a time per tenant, so one would make
every create of the run fail. There is no operation that lists runs, so the check asks for one.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable

from . import _envelope as envelope
from . import _paths as paths
from ._cleanup import settle_or_clean
from ._exceptions import SetupError, TargetUnavailable, TransportError
from ._http import Request, Response, Session
from ._ledger import Ledger
from ._results import Assertion, CheckResult
from ._tenant_data import TenantData, TenantSettings, resolve_tenant_data

#: No journal run has this number (numbering starts at JR-00000001), so reading it is harmless.
PROBE_PATH = paths.path(paths.GET_RUN, paths.NO_RUN)


def preflight(session: Session) -> CheckResult:
    """Probe the target through ``session``. Returns the preflight check; a broken setup raises
    :class:`SetupError` whose message says what to fix. :func:`tenant_data` follows it."""
    check = CheckResult(
        id="preflight",
        title="The target is reachable, accepts the credentials and speaks the API",
        kind="preflight",
        area="errors",
    )
    url = session.url(PROBE_PATH)
    try:
        response = session.do(Request("GET", PROBE_PATH), check=check, track="preflight")
    except TargetUnavailable as exc:
        raise SetupError(f"{_reason(str(exc))}: try again later") from None
    except TransportError as exc:
        raise SetupError(f"cannot reach the target: {_reason(str(exc))}") from None
    check.record(Assertion("the target answers HTTP", (), passed=True, actual=response.status_code))
    if response.status_code in (401, 403):
        hint = (
            "set JR_TOKEN, or JR_CLIENT_ID and JR_CLIENT_SECRET"
            if session.auth is None
            else "check the token or client credentials and the tenant they belong to"
        )
        raise SetupError(
            f"the target refused the credentials (HTTP {response.status_code}): {hint}"
        )
    body = response.json_or_none()
    if not isinstance(body, dict) or not ("success" in body or "reasons" in body):
        kind = response.headers.get("content-type", "no content type")
        raise SetupError(
            f"GET {url} answered HTTP {response.status_code} ({kind}) without the API's JSON "
            "envelope: is the base URL right (scheme, host and base path, without /v1)?"
        )
    check.record(Assertion("the target answers with the API's JSON envelope", (), passed=True))
    check.settle()
    return check


def tenant_data(session: Session, settings: TenantSettings, check: CheckResult) -> TenantData:
    """The tenant's periods and earliest date: configured, else found on the target (a read).

    Said on the preflight check; a configured period the tenant lacks raises :class:`SetupError`.
    """
    data = resolve_tenant_data(settings, session, check)
    check.record(Assertion(f"tenant data: {data.describe()}", (), passed=True))
    return data


def _reason(message: str) -> str:
    lowered = message.lower()
    if "certificate" in lowered or "tls" in lowered or "ssl" in lowered:
        return f"TLS failed ({message}); fix the certificate, or set verify_tls = false"
    return message


# -- is another journal run executing? ---------------------------------------------------------


def canary_request(data: TenantData) -> Request:
    """The create the idle check sends: the one the ``completed-run`` fixture sends, in the
    tenant's period, so that the fixture can take the idle check's run instead of making
    another (``tests/scenarios`` keeps the two the same)."""
    body = {
        "accountingPeriodName": data.period.name,
        "journalEntryDate": (data.period.start + dt.timedelta(days=3)).isoformat(),
        "transactionTypes": [
            {"type": "Invoice Item"},
            {"type": "Electronic Payment"},
            {"type": "Taxation Item"},
        ],
    }
    return Request("POST", paths.path(paths.CREATE_RUN), json=body)


#: How long the idle check waits for a run the suite did not create to finish.
PENDING_WAIT_S = 120.0
#: Refusals that may mean "another journal run is pending or processing".
_BUSY_CATEGORIES = frozenset({envelope.RULE_RESTRICTION, envelope.LOCKING})


def check_idle(
    session: Session,
    ledger: Ledger,
    tenant: str,
    check: CheckResult,
    data: TenantData,
    *,
    wait_s: float = PENDING_WAIT_S,
    cleanup_wait_s: float = 120.0,
    stop: threading.Event | None = None,
    notify: Callable[[str], None] | None = None,
) -> Response | None:
    """Make sure no journal run the suite did not create is executing on the tenant.

    The API has no operation that lists runs, so the only way to know is to ask for one: the
    check creates one run (recorded in the ledger like any other, waited for until it
    settles, and removed by the cleanup stage). The answer to that create is returned when the
    run settled and is still there (a fixture may take it: :meth:`Tenants.offer`); else ``None``. A
    refusal that may mean "busy" (category 30 or 50, or HTTP 409) is retried with backoff for up
    to ``wait_s``; if the tenant still refuses, the run stops with a :class:`SetupError` that says
    so. A run the suite did not create is never cancelled. Any other answer is left for the
    checks to judge.
    """
    stop = stop or threading.Event()
    started = time.monotonic()
    request = canary_request(data)
    told = False
    while True:
        mark = ledger.mark()
        try:
            response = session.do(request, check=check, track="preflight.idle")
        except TransportError as exc:
            check.message = f"the idle check's create failed: {exc}"
            return None
        created = ledger.open_items(tenant, after=mark)
        if created:
            # The checks need the run settled, not gone: the cleanup stage removes it with the
            # rest (a run that does not settle is cleaned, or given up on, now).
            left = settle_or_clean(ledger, created, session, wait_s=cleanup_wait_s, check=check)
            check.record(
                Assertion(
                    "no other journal run is executing: the tenant accepts a run (removed by "
                    "the cleanup stage)",
                    (),
                    passed=True,
                    actual=created[0].number,
                )
            )
            if left:
                check.message = "the idle check's run was left behind: " + ", ".join(
                    f"{item.number} ({item.status}: {item.reason})" for item in left
                )
                return None
            # Settled, not cleaned (a run that did not settle was removed already).
            return response if ledger.open_items(tenant, after=mark) else None
        refusal = _refusal(response)
        if refusal is None:
            check.message = (
                f"the idle check's create answered HTTP {response.status_code} without a run "
                "number; the checks will judge the target"
            )
            return None
        category, reason = refusal
        if "period" in reason.lower() or data.period.name.lower() in reason.lower():
            raise SetupError(
                f"the tenant refuses a journal run in the accounting period {data.period.name} "
                f"({data.source}): {reason}. Set a period the tenant has with --period "
                "NAME=START..END (tenant.period in the config file, or JR_PERIOD)"
            )
        if category not in _BUSY_CATEGORIES and response.status_code != 409:
            check.message = (
                f"the idle check's create was refused ({reason}); not a sign of another run, so "
                "the checks will judge it"
            )
            return None
        waited = time.monotonic() - started
        if waited >= wait_s:
            raise SetupError(
                f"the tenant refuses to create a journal run ({reason}) and kept refusing for "
                f"{wait_s:g} s. Only one journal run executes at a time per tenant, and this "
                "suite has none there: another journal run is probably pending or processing "
                "(or the tenant cannot run the idle check's create: "
                f"{json.dumps(request.json)}). The suite never cancels a run it did not create: "
                "let that run finish, or cancel it yourself, then run again"
            )
        if not told and notify is not None:
            notify(
                f"the tenant refuses a new journal run ({reason}): another run is probably "
                f"executing; waiting up to {wait_s:g} s for it (it will not be cancelled)"
            )
            told = True
        pause = min(5.0, 0.25 + 0.1 * waited, max(0.0, wait_s - waited))
        if stop.wait(pause):
            check.message = "interrupted while waiting for another journal run to finish"
            return None


def _refusal(response: Response) -> tuple[int | None, str] | None:
    """``(category, reason)`` when ``response`` refuses; ``None`` when it does not."""
    body = response.json_or_none()
    if envelope.is_accepted(response.status_code, body):
        return None
    category: int | None = None
    message = ""
    first = envelope.first_reason(body)
    if first is not None:
        parsed = envelope.parse_code(first[0])
        category = parsed[1] if parsed else None
        message = first[1]
    parts = [f"HTTP {response.status_code}"]
    if category is not None:
        parts.append(f"category {category}")
    if message:
        parts.append(repr(message[:200]))
    return category, ", ".join(parts)
