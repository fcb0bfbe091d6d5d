"""schemathesis's built-in checks: which ones the fuzz stage keeps, how it reports them, and which
ones it turns off (and why).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import schemathesis
from schemathesis.openapi.checks import AuthScenario, IgnoredAuth, UnsupportedMethodResponse
from schemathesis.specs.openapi import checks as _st_checks
from schemathesis.specs.openapi._auth_retry import (
    get_security_parameters,
    remove_auth,
    send_probe,
    set_auth_for_case,
)

from .._envelope import is_auth_refusal
from ._registry import BLAME, FuzzCheck, fuzz_check

#: The check that replaces schemathesis's ``ignored_auth`` (see :func:`ignored_auth_envelope`).
AUTH_CHECK: Final = "ignored_auth_envelope"
#: The check that replaces schemathesis's ``unsupported_method`` (see
#: :func:`unsupported_method_or_not_found`).
METHOD_CHECK: Final = "unsupported_method_or_not_found"
#: schemathesis's check of response bodies against the spec's schemas.
SCHEMA_CHECK: Final = "response_schema_conformance"
#: The suite's replacements of built-in checks, off in a plain schemathesis run.
REPLACEMENTS: Final = (AUTH_CHECK, METHOD_CHECK)

#: Built-in checks grouped into one CheckResult each, in report order. Which requirement each
#: built-in's verdict fails is the catalogue's (``blame.checks``, see :func:`requirement_for`).
BUILTIN_GROUPS: Final[tuple[FuzzCheck, ...]] = (
    fuzz_check(
        "fuzz.server-errors",
        "No request, however malformed, gets a 5xx answer",
        "errors",
        builtins=("not_a_server_error",),
    ),
    fuzz_check(
        "fuzz.response-schema",
        "Answers conform to the spec: status codes, content types, headers and body schemas",
        "retrieve",
        builtins=(
            SCHEMA_CHECK,
            "status_code_conformance",
            "content_type_conformance",
            "response_headers_conformance",
        ),
    ),
    fuzz_check(
        "fuzz.input-validation",
        "Invalid input is refused; undeclared methods are not served",
        "errors",
        builtins=(
            "negative_data_rejection",
            "missing_required_header",
            METHOD_CHECK,
            "allow_header_conformance",
        ),
    ),
    fuzz_check(
        "fuzz.auth",
        "Operations refuse requests without valid credentials",
        "auth",
        builtins=(AUTH_CHECK,),
    ),
)

#: Built-in checks the fuzz stage turns off, with the reason (also in the README).
DISABLED: Final[Mapping[str, str]] = {
    "ensure_resource_availability": (
        "assumes a created resource is at once readable in its final state; journal runs are "
        "created asynchronously (Pending, Processing), so fuzz.resource-availability and "
        "fuzz.lifecycle replace it with a model that knows the lifecycle"
    ),
    "use_after_free": (
        "treats any 2xx read after a successful DELETE as a use after free; a deleted run is "
        "DeleteInprogress for a while before it is gone, so fuzz.resource-availability "
        "replaces it"
    ),
    "ignored_auth": (
        "expects a request without valid credentials to be refused with 401 or 403, but under a "
        "legacy Zuora-Version the refusal may be HTTP 200 with success false and category 11 "
        "(JR-AUTH-001); ignored_auth_envelope runs it and accepts that refusal"
    ),
    "unsupported_method": (
        "expects 405 for a method the spec does not list, but JR-ERRORS-010 also accepts 404 "
        "(category 40) for a path and method the API does not offer; "
        "unsupported_method_or_not_found runs it and accepts that answer"
    ),
    "positive_data_acceptance": (
        "expects schema-valid input to be accepted, but a valid create is refused by business "
        "rules the schema cannot say (one run at a time per tenant, the accounting period's "
        "dates, an unknown period name), and cancel/delete depend on the run's status; the "
        "suite's scenarios check acceptance where the state is known"
    ),
}

#: Built-in checks the legacy pass also turns off: under a pre-2024-05-20 Zuora-Version an error
#: is answered HTTP 200 by design, which these checks read as the error being ignored.
DISABLED_IN_LEGACY: Final[Mapping[str, str]] = {
    "negative_data_rejection": "legacy errors are HTTP 200 with success false (JR-VERSIONS-001)",
    "missing_required_header": "legacy errors are HTTP 200 with success false (JR-VERSIONS-001)",
    METHOD_CHECK: "legacy errors are HTTP 200 with success false (JR-VERSIONS-001)",
}

_GROUP_OF: Final[Mapping[str, FuzzCheck]] = {
    name: group for group in BUILTIN_GROUPS for name in group.builtins
}


def group_of(check_name: str) -> FuzzCheck | None:
    """The CheckResult a built-in check reports into; ``None`` for checks outside every group."""
    return _GROUP_OF.get(check_name)


def requirement_for(
    check_name: str,
    operation_id: str | None,
    is_error: bool,
    path: Sequence[str | int] = (),
) -> str:
    """The requirement a built-in check's verdict on one answer speaks for, as the catalogue
    says: a body-schema verdict by the rule the scenarios use too
    (:meth:`~conformance._blame.Blame.schema_violation`, ``path`` the failing field), any other
    by its group's findings."""
    if check_name == SCHEMA_CHECK:
        return BLAME.schema_violation(operation_id, not is_error, path)
    group = group_of(check_name)
    if group is None:
        return BLAME.envelope_field(("success",)) or BLAME.schema_error
    return BLAME.finding(group.id, check_name)


_REQUIRED: Final = re.compile(r"""^["']([^"']+)["'] is a required property$""")


def failure_path(failure: Any) -> tuple[str | int, ...]:
    """Where in the body a schemathesis schema failure is, as the scenarios' validator says it:
    the failing value's path, and for a missing property the property's name too (so a missing
    ``success`` is the ``success`` field's, in both engines). ``()`` for other failures."""
    path = tuple(getattr(failure, "instance_path", None) or ())
    message = str(getattr(failure, "_raw_message", "") or "")
    missing = _REQUIRED.match(message)
    return (*path, missing.group(1)) if missing else path


# -- the method check, accepting not-found ---------------------------------------------------


@schemathesis.check
def unsupported_method_or_not_found(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's ``unsupported_method``, except that 404 is accepted too: JR-ERRORS-010's
    decision allows a server to answer a path and method it does not offer as not found."""
    try:
        return _st_checks.unsupported_method(ctx, response, case)
    except UnsupportedMethodResponse as failure:
        if failure.failure_reason == "wrong_status" and failure.status_code == 404:
            return None
        raise


# -- the auth check, reading the envelope ---------------------------------------------------------


def _refused(response: Any) -> bool:
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, TypeError):
        body = None
    return is_auth_refusal(int(response.status_code), body)


@schemathesis.check
def ignored_auth_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's ``ignored_auth``, except that an answer refusing the credentials the way
    JR-AUTH-001 accepts (legacy HTTP 200, success false, category 11) is a refusal, not an
    acceptance.

    ``ignored_auth`` raises at the first answer it reads as accepted; the answer is the probe
    named by the failure's ``case_id`` (or the case's own). When that answer is a legacy refusal
    of the request without credentials, the probes with invalid credentials it did not get to
    are sent here, with the same helpers.
    """
    try:
        return _st_checks.ignored_auth(ctx, response, case)
    except IgnoredAuth as failure:
        answer = response
        if failure.case_id not in (None, case.id):
            answer = ctx.internals.find_response(case_id=failure.case_id)
        if answer is None or not _refused(answer):
            raise
        if failure.case_id in (None, case.id) or failure.scenario != AuthScenario.NO_AUTH:
            return None
    # The probe without credentials was refused: the probes with invalid credentials.
    parameters = get_security_parameters(case.operation)
    for parameter in parameters:
        probe = remove_auth(case, parameters)
        set_auth_for_case(probe, parameter)
        answer = send_probe(ctx, case, probe)
        if not (_refused(answer) or 300 <= answer.status_code < 400):
            _st_checks._raise_no_auth_error(answer, probe, AuthScenario.INVALID_AUTH)
    enforced = ctx.auth_enforced_operations
    if enforced is not None:
        enforced.add(case.operation.label)
    return None
