"""One exchange the fuzzer made, in the suite's terms, whatever schemathesis object it came from.

The Journal Runs checks judge :class:`Observation` objects only, so they can be read (and tested)
without knowing schemathesis, and the evidence they keep is the suite's own redacted
:class:`~conformance._results.Exchange`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from .. import _envelope as envelope
from .. import _paths as paths
from .._redact import Redactor
from .._results import Exchange

#: The path parameter that names a journal run.
RUN_PARAMETER = paths.RUN_PARAMETER


@dataclass(frozen=True)
class Observation:
    """One request and its answer (``status is None`` when no answer came)."""

    #: Position in the whole fuzz stage, from 0: the order the checks see exchanges in.
    index: int
    #: ``main`` (the configured Zuora-Version) or ``legacy``.
    pass_name: str
    #: The schemathesis phase: examples, coverage, fuzzing, stateful.
    phase: str
    #: The operationId, or ``None`` when the request was not the operation's own method (an
    #: unsupported-method probe reuses the operation's path with another method).
    operation_id: str | None
    method: str
    url: str
    path_parameters: Mapping[str, Any]
    request_headers: Mapping[str, str]  # names lower-cased
    request_body: bytes | None
    status: int | None
    response_headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    response_body: bytes = b""
    elapsed_s: float = 0.0
    #: The session's evidence of this exchange (redacted and cut when it was sent), if it went
    #: through the suite's session.
    evidence: Exchange | None = field(default=None, compare=False, repr=False)

    @cached_property
    def json(self) -> Any:
        """The response body as JSON, or ``None`` when it is not JSON."""
        if not self.response_body:
            return None
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    @property
    def body(self) -> dict[str, Any]:
        """The response body when it is a JSON object, else an empty dict."""
        data = self.json
        return data if isinstance(data, dict) else {}

    @property
    def run_number(self) -> str | None:
        """The journal run the request names in its path, if any."""
        value = self.path_parameters.get(RUN_PARAMETER)
        return value if isinstance(value, str) else None

    @property
    def accepted(self) -> bool:
        """Any 2xx status without ``success: false``: the server says it did what was asked."""
        return envelope.is_accepted(self.status, self.json)

    @property
    def succeeded(self) -> bool:
        """HTTP 2xx with ``success: true``: the request did what it asked."""
        return envelope.is_succeeded(self.status, self.json)

    @property
    def refused(self) -> bool:
        """An error answer: ``success: false`` (any status) or a 4xx/5xx status."""
        return envelope.is_refused(self.status, self.json)

    def request_header(self, name: str) -> str | None:
        return self.request_headers.get(name.lower())

    def response_header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())

    def reason_codes(self) -> list[Any]:
        return envelope.codes(self.json)

    def categories(self) -> list[int]:
        """The two-digit category of each reason code (:func:`.category_of`)."""
        return envelope.categories(self.json)

    def label(self) -> str:
        path = urlsplit(self.url).path or "/"
        return f"{self.method} {path}"

    def exchange(self, redactor: Redactor) -> Exchange:
        """The redacted evidence for this observation (the bearer token never appears): the
        session's own when the request went through it, so one path redacts every exchange."""
        if self.evidence is not None:
            return dataclasses.replace(
                self.evidence,
                request_headers=dict(self.evidence.request_headers),
                response_headers=dict(self.evidence.response_headers),
            )
        return Exchange(
            method=self.method,
            url=redactor.url(self.url),
            request_headers=redactor.headers(_display(self.request_headers)),
            request_body=redactor.body(self.request_body, self.request_header("content-type")),
            status_code=self.status,
            response_headers=redactor.headers(_display(self.response_headers)),
            response_body=redactor.body(self.response_body, self.response_header("content-type")),
            elapsed_ms=round(self.elapsed_s * 1000, 3),
            error=None if self.status is not None else "no response (network error)",
        )


def from_schemathesis(
    *,
    index: int,
    pass_name: str,
    phase: str,
    case: Any,
    request: Any,
    response: Any | None,
) -> Observation:
    """Build an :class:`Observation` from a recorded schemathesis case, request and response.

    ``request`` is the recorder's request (``method``, ``uri``, ``body``, ``headers`` as lists);
    ``response`` a ``schemathesis.Response`` or ``None``.
    """
    operation = case.operation
    operation_id = None
    if str(request.method).upper() == str(operation.method).upper():
        operation_id = operation.definition.raw.get("operationId")
    return Observation(
        index=index,
        pass_name=pass_name,
        phase=phase,
        operation_id=operation_id,
        method=str(request.method).upper(),
        url=str(request.uri),
        path_parameters=dict(case.path_parameters or {}),
        request_headers=_first_values(request.headers),
        request_body=request.body if request.body else None,
        status=None if response is None else int(response.status_code),
        response_headers={} if response is None else _first_values(response.headers),
        response_body=b"" if response is None else bytes(response.content or b""),
        elapsed_s=0.0 if response is None else float(response.elapsed),
        evidence=None if response is None else getattr(response.request, "suite_exchange", None),
    )


def _first_values(headers: Mapping[str, Any]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        result[str(name).lower()] = str(value)
    return result


# Evidence shows headers as a client would write them, not lower-cased.
_DISPLAY = {
    "zuora-track-id": "Zuora-Track-Id",
    "zuora-request-id": "Zuora-Request-Id",
    "zuora-version": "Zuora-Version",
}


def _display(headers: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    for name, value in headers.items():
        yield _DISPLAY.get(name) or "-".join(part.capitalize() for part in name.split("-")), value
