"""Preflight: is the setup broken, or can the implementation be judged?

One harmless request tells the two apart before anything is created. A broken setup
(unreachable, TLS, refused credentials, a base URL that is not the API) is a *setup error*, said in
one line; anything else is left for the checks to judge.
"""

from __future__ import annotations

from ._exceptions import SetupError, TransportError
from ._http import Request, Session
from ._results import Assertion, CheckResult

#: No journal run has this number (numbering starts at JR-00000001), so reading it is harmless.
PROBE_PATH = "/v1/journal-runs/JR-00000000"


def preflight(session: Session) -> CheckResult:
    """Probe the target through ``session``. Returns the preflight check; a broken setup raises
    :class:`SetupError` whose message says what to fix."""
    check = CheckResult(
        id="preflight",
        title="The target is reachable, accepts the credentials and speaks the API",
        kind="preflight",
        area="errors",
    )
    url = session.url(PROBE_PATH)
    try:
        response = session.do(Request("GET", PROBE_PATH), check=check, track="preflight")
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


def _reason(message: str) -> str:
    lowered = message.lower()
    if "certificate" in lowered or "tls" in lowered or "ssl" in lowered:
        return f"TLS failed ({message}); fix the certificate, or set verify_tls = false"
    return message
