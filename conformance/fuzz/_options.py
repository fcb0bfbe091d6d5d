"""What to fuzz and how hard: the two inputs of the fuzz stage, validated on construction."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from .._exceptions import ConfigError
from .._http import Auth, BearerToken, HttpSettings, Pacer, Session
from .._redact import Redactor
from .._tenant_data import TenantData

#: The phases schemathesis runs, in its order.
PHASES: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")

#: The Zuora-Version the fuzz stage sends by default: errors then carry their category's status.
MODERN_VERSION = "2024-05-20"
#: The Zuora-Version of the small legacy pass: an explicit pre-2024-05-20 version, so that errors
#: must come as HTTP 200 with success false whatever the tenant's default (JR-VERSIONS-001).
LEGACY_VERSION = "341.0"


class Stop(Protocol):
    """What ends the stage early when set: a ``threading.Event``, or a ``multiprocessing`` one
    (a part of the stage in a process of its own)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class FuzzTarget:
    """The implementation under test.

    ``auth`` authenticates every request of the stage, through the suite's session (a
    client-credentials token is fetched there, and again on a 401). ``headers`` go on every
    request (kept out of ``repr``); an ``Authorization: Bearer ...`` among them becomes ``auth``.
    ``zuora_version`` is sent as ``Zuora-Version`` by the main pass (``None``: no
    header, so the tenant's default error style applies and the status check cannot judge it).
    """

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    zuora_version: str | None = MODERN_VERSION
    #: Names the run in every Zuora-Track-Id (``<run_id>.fuzz.<operationId>``).
    run_id: str = "jrc-fuzz"
    verify_tls: bool = True
    request_timeout_s: float = 30.0
    #: The request budget every request of the stage spends from (shared with the rest of the
    #: run by ``jr-conformance run``); ``None``: unpaced.
    pacer: Pacer | None = field(default=None, compare=False, repr=False)
    auth: Auth | None = field(default=None, compare=False, repr=False)
    #: The run's HTTP settings (caps on bodies, retries): the stage's session uses them, with
    #: this target's base URL, timeout, TLS, version and run id. ``None``: the defaults.
    http: HttpSettings | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"base URL must look like http(s)://host[:port][/path], not {self.base_url!r}"
            )
        if parts.query or parts.fragment:
            raise ConfigError(f"base URL must not carry a query or fragment: {self.base_url!r}")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        headers = dict(self.headers)
        for name, value in headers.items():
            if not _is_header_text(name) or not _is_header_text(value, allow_space=True):
                raise ConfigError(f"header {name!r} has a name or value that cannot be sent")
        for name in [k for k in headers if k.lower() == "authorization"]:
            scheme, _, credential = headers[name].partition(" ")
            if self.auth is None and scheme.lower() == "bearer" and credential.strip():
                object.__setattr__(self, "auth", BearerToken(credential.strip()))
                del headers[name]
        object.__setattr__(self, "headers", headers)
        if self.zuora_version is not None and not _is_header_text(self.zuora_version):
            raise ConfigError(f"Zuora-Version must be printable ASCII: {self.zuora_version!r}")
        if not self.run_id or not _is_header_text(self.run_id):
            raise ConfigError(f"run id must be printable ASCII without spaces: {self.run_id!r}")
        if not self.request_timeout_s > 0:
            raise ConfigError(f"request timeout must be > 0 s, not {self.request_timeout_s!r}")

    def session(self, redactor: Redactor, *, auth: Auth | None = None, **settings: Any) -> Session:
        """A session to the target with the stage's timeout, TLS, version, run id and request
        budget (``settings`` override :class:`~conformance._http.HttpSettings` fields)."""
        http = dataclasses.replace(
            self.http or HttpSettings(base_url=self.base_url),
            base_url=self.base_url,
            timeout_s=self.request_timeout_s,
            verify_tls=self.verify_tls,
            zuora_version=self.zuora_version,
            run_id=self.run_id,
            **settings,
        )
        return Session(http, auth or self.auth, redactor=redactor, pacer=self.pacer)

    @property
    def authorization(self) -> str | None:
        """An ``Authorization`` value left in ``headers`` (not a bearer token), if any."""
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), None)

    @property
    def token(self) -> str | None:
        """The static bearer token, if any (for redaction; a fetched one is added when fetched)."""
        return self.auth.token if isinstance(self.auth, BearerToken) else None


@dataclass(frozen=True)
class FuzzOptions:
    """The fuzzing budget. The defaults make two runs against the same server send the same
    requests: a fixed seed and no example database."""

    #: Hypothesis examples per operation (fuzzing phase) and scenarios (stateful phase).
    max_examples: int = 10
    seed: int = 0
    #: A wall-clock bound for the whole stage; ``None``: none. A time bound ends the run where
    #: the clock says, so it gives up exact reproducibility (see the README).
    max_time_s: float | None = None
    phases: tuple[str, ...] = PHASES
    #: Examples per operation of the legacy pass (``Zuora-Version: 341.0``); 0 skips the pass.
    legacy_examples: int = 3
    #: Stateful steps per scenario (schemathesis defaults to 6): longer scenarios follow a created
    #: run through more of its lifecycle, so the lifecycle checks see it at small budgets too.
    max_steps: int | None = 12
    #: Send only reads: the GET operations, no stateful phase, no check that tries other methods.
    read_only: bool = False
    #: The tenant holds data the suite did not create (an external target): no check that sends
    #: methods the API does not define to a URL naming a run or entry that may not be ours.
    shared_tenant: bool = False
    #: Stateful scenarios, at least: a created run is followed through cancel and delete only
    #: in the stateful phase, so it keeps this many scenarios however small ``max_examples`` is.
    min_scenarios: int = 10
    #: After schemathesis, cancel and delete the runs it created, judging every exchange
    #: (see ``_follow``); how long one run may take to go.
    follow_through: bool = True
    follow_wait_s: float = 120.0
    #: The tenant's periods: the spec's examples (the documents' Nov-2014) move into them.
    tenant: TenantData | None = None
    #: With ``shared_tenant``: the journal runs the stage may create (enough for the stateful
    #: phase to follow a run through its lifecycle); past them the passes after the stateful one
    #: send no valid create, so they spend no time on "another run is executing" refusals.
    #: Invalid creates still go.
    create_budget: int = 1
    #: With ``shared_tenant``: schemathesis workers for the passes after the stateful one (their
    #: creates are within the budget). One worker otherwise, so that a seed sends the same
    #: requests in the same order (the embedded reference).
    workers: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.max_examples, bool) or not isinstance(self.max_examples, int):
            raise ConfigError(f"max examples must be a whole number, not {self.max_examples!r}")
        if self.max_examples < 1:
            raise ConfigError(f"max examples must be at least 1, not {self.max_examples}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a whole number >= 0, not {self.seed!r}")
        if self.max_time_s is not None and not self.max_time_s > 0:
            raise ConfigError(f"max time must be > 0 seconds, not {self.max_time_s!r}")
        phases = tuple(self.phases)
        unknown = [phase for phase in phases if phase not in PHASES]
        if unknown or not phases:
            listed = ", ".join(map(repr, unknown))
            raise ConfigError(f"unknown or no phases {listed}; choose from {', '.join(PHASES)}")
        object.__setattr__(self, "phases", phases)
        if not isinstance(self.legacy_examples, int) or self.legacy_examples < 0:
            raise ConfigError(f"legacy examples must be >= 0, not {self.legacy_examples!r}")
        if isinstance(self.min_scenarios, bool) or not isinstance(self.min_scenarios, int):
            raise ConfigError(f"min scenarios must be a whole number, not {self.min_scenarios!r}")
        if not self.follow_wait_s > 0:
            raise ConfigError(f"follow-through wait must be > 0 s, not {self.follow_wait_s!r}")
        for name in ("create_budget", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name.replace('_', ' ')} must be a whole number >= 0")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, not {self.workers}")
        if self.max_steps is not None and (
            not isinstance(self.max_steps, int) or self.max_steps < 2
        ):
            raise ConfigError(f"max steps must be >= 2, not {self.max_steps!r}")


def _is_header_text(value: str, *, allow_space: bool = False) -> bool:
    if not isinstance(value, str) or not value:
        return False
    low = 0x20 if allow_space else 0x21
    return all(low <= ord(char) < 0x7F for char in value)
