"""How the suite gets a session per tenant, and how many scenarios may run at once.

Only one journal run executes at a time per tenant, so two scenarios that create runs must never
share a tenant at the same time. Against the embedded reference every scenario gets a fresh, empty
tenant: a token minted at ``POST {base}/oauth/token`` for a new ``client_id`` (the reference makes
one tenant per client id) with the reference's client secret, so scenarios run in parallel.
Against an external target there is one tenant, the configured credentials: holders that create
no journal run share it (up to the concurrency limit), and each holder that does has it alone.
"""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ._config import Config
from ._http import (
    Auth,
    ClientCredentials,
    HttpSettings,
    Pacer,
    Request,
    Response,
    Session,
    new_transport,
)
from ._ledger import Ledger, tenant_key
from ._results import LeftBehind
from ._tenant_data import DOCUMENTS_DATA, TenantData

#: The client secret the embedded reference server accepts for any client id.
REFERENCE_CLIENT_SECRET = "reference-secret"

#: What a target can offer; a scenario needing something its target lacks is skipped.
CAPABILITIES: Mapping[str, str] = {
    "journal-entries": "the seven summary-journal-entry operations",
    "manual-entries": "creating summary journal entries by hand (POST /v1/journal-entries)",
    "idempotency": "Idempotency-Key on POST",
    "gzip-requests": "gzip-compressed request bodies (Content-Encoding: gzip)",
    "reference-controls": "the reference server's X-Reference-* test headers",
    "transfer-override": (
        "marking entries transferred to accounting, on a tenant where the suite may move them "
        "back to No (an override permission) or that is disposable: a transferred entry cannot "
        "be cancelled, so without it such an entry stays behind"
    ),
}
#: Capabilities assumed when a target declares none: what the vendor's API documents, without
#: the reference's test controls, and without marking entries transferred (on a real sandbox
#: they could not be cleaned up without a permission the suite cannot assume).
DEFAULT_CAPABILITIES: tuple[str, ...] = tuple(
    c for c in CAPABILITIES if c not in ("reference-controls", "transfer-override")
)
#: Everything the embedded reference offers, its test controls included.
REFERENCE_CAPABILITIES: tuple[str, ...] = tuple(CAPABILITIES)

ErrorStyle = Literal["auto", "legacy", "modern"]


@dataclass
class Tenant:
    """One tenant, held by one scenario at a time."""

    name: str
    session: Session
    #: The tenant's name in the ledger (a client id or a token fingerprint, never a secret).
    key: str = ""
    #: What the cleanup after the holder's block could not remove.
    left_behind: list[LeftBehind] = field(default_factory=list)


@dataclass(frozen=True)
class Protection:
    """How the sessions of a run are kept to what the run created."""

    ledger: Ledger
    #: Refuse every write.
    read_only: bool = False
    #: Refuse changes to runs and entries the ledger does not hold (an external tenant).
    foreign: bool = True
    #: How long cleaning one item may take.
    cleanup_wait_s: float = 120.0


class Tenants(ABC):
    """Where scenarios run: the target's capabilities, how many at once, a session per tenant.

    ``acquire`` hands out a tenant for the duration of a ``with`` block. ``max_parallel`` is how
    many may be held at once (``None``: no limit).
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        capabilities: tuple[str, ...],
        error_style: ErrorStyle = "auto",
        variables: Mapping[str, Any] | None = None,
        max_parallel: int | None = None,
        description: str = "",
    ) -> None:
        self.settings = settings
        self.run_id = settings.run_id
        self.capabilities = frozenset(capabilities)
        #: How the target answers errors when a request names no (known) ``Zuora-Version``.
        self.error_style: ErrorStyle = error_style
        #: Values that override a scenario's ``vars`` of the same name (target-specific data).
        self.variables: dict[str, Any] = dict(variables or {})
        #: The tenant's data (periods, earliest date): set by the preflight, read by the checks.
        self.data: TenantData = DOCUMENTS_DATA
        self.max_parallel = max_parallel
        self.description = description
        self._lock = threading.Lock()
        self._sessions: list[Session] = []
        self.protection: Protection | None = None
        #: The run's request budget against the target: every session (and the fuzzer) spends
        #: from this one, so ``--rate-limit`` holds for the run, not per tenant.
        self.pacer = Pacer(settings.rate_limit_per_min, max_wait_s=settings.max_retry_wait_s)
        # One connection pool for every session: a fresh tenant per scenario then costs a
        # token, not a TCP (and TLS) handshake.
        self._transport = new_transport(settings)
        self._offered: list[tuple[str, Request, Response]] = []

    def offer(self, key: str, request: Request, response: Response) -> None:
        """Keep an answer the run already had from tenant ``key`` (the preflight's idle check
        made a journal run): a fixture that would send the same request takes it instead."""
        with self._lock:
            self._offered.append((key, request, response))

    def take(self, key: str, request: Request) -> Response | None:
        """The answer offered for exactly ``request`` on tenant ``key``, once; ``None``: send it."""
        with self._lock:
            for index, (offered_key, offered, response) in enumerate(self._offered):
                if offered_key == key and offered == request:
                    del self._offered[index]
                    return response
        return None

    def protect(self, protection: Protection) -> None:
        """Record, guard and clean up every session handed out from now on (and the ones
        already made)."""
        self.protection = protection
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            self._protect(session, self.key_of(session))

    @contextmanager
    def acquire(self, label: str, *, exclusive: bool = True) -> Iterator[Tenant]:
        """A tenant for the ``with`` block; ``label`` names who holds it (for messages). With a
        ledger, what the block created is cleaned up before the tenant is handed back (even when
        the block raised); what could not be is in ``tenant.left_behind``.

        ``exclusive=False`` says the block creates no journal run: on a shared tenant it may
        then run beside other such blocks, and what it created anyway (a server that accepted
        what it should have refused) is left to the hold itself: the last sharer out cleans it on
        a shared tenant, the run's cleanup stage on fresh ones."""
        with self._hold(label, exclusive=exclusive) as tenant:
            if not exclusive:
                yield tenant
                return
            protection = self.protection
            mark = protection.ledger.mark() if protection else 0
            try:
                yield tenant
            finally:
                if protection is not None:
                    tenant.left_behind = self._hand_back(protection, tenant, mark)

    def _hand_back(self, protection: Protection, tenant: Tenant, mark: int) -> list[LeftBehind]:
        """Make the tenant fit for its next holder: clean what the block created."""
        return self._clean(protection, tenant, mark)

    def _clean(self, protection: Protection, tenant: Tenant, mark: int) -> list[LeftBehind]:
        from ._cleanup import clean

        items = protection.ledger.open_items(tenant.key, after=mark)
        if not items:
            return []
        return clean(
            protection.ledger,
            items,
            lambda key: tenant.session if key == tenant.key else None,
            wait_s=protection.cleanup_wait_s,
        )

    @contextmanager
    def acquire_for_fixture(self, label: str) -> Iterator[Tenant]:
        """The tenant shared holds get, held alone while a fixture is made on it. Nothing is
        cleaned when it is handed back: the fixture lives until the run's cleanup stage."""
        with self._hold(label, exclusive=True) as tenant:
            yield tenant

    @abstractmethod
    def _hold(self, label: str, *, exclusive: bool) -> AbstractContextManager[Tenant]:
        """A tenant for the ``with`` block, without the cleanup."""

    @abstractmethod
    def key_of(self, session: Session) -> str:
        """The ledger name of the tenant ``session`` belongs to."""

    def session_for(self, key: str) -> Session | None:
        """A session of the tenant named ``key`` in the ledger (for the cleanup at the end of a
        run), or ``None`` if it cannot be reached with these credentials."""
        return None

    @property
    def requests_sent(self) -> int:
        """Requests sent by every session these tenants handed out (token requests included)."""
        with self._lock:
            return sum(session.requests_sent for session in self._sessions)

    @property
    def retries(self) -> int:
        """Transient answers the sessions retried (see ``Session.retries``)."""
        with self._lock:
            return sum(session.retries for session in self._sessions)

    def close(self) -> None:
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()
        self._transport.close()

    def __enter__(self) -> Tenants:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _session(self, auth: Auth | None, key: str) -> Session:
        """A new session of the tenant ``key``, on the shared pool and budget, tracked."""
        session = Session(self.settings, auth, transport=self._transport, pacer=self.pacer)
        return self._track(session, key)

    def _track(self, session: Session, key: str) -> Session:
        with self._lock:
            self._sessions.append(session)
        if self.protection is not None:
            self._protect(session, key)
        return session

    def _protect(self, session: Session, key: str) -> None:
        protection = self.protection
        assert protection is not None
        protection.ledger.watch(session, key)
        protection.ledger.guard(
            session, key, read_only=protection.read_only, foreign=protection.foreign
        )


class FreshTenants(Tenants):
    """A new tenant for every scenario that creates something: the embedded reference (or any
    server minting tenants per OAuth client id). Sessions are closed when released; their
    request counts are kept. Shared holds (scenarios that create nothing) and fixtures all get
    one common tenant, so a fixture is made once for every scenario that reads it; what is left
    there is the run's cleanup stage's."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        client_secret: str = REFERENCE_CLIENT_SECRET,
        capabilities: tuple[str, ...] = REFERENCE_CAPABILITIES,
        error_style: ErrorStyle = "legacy",
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            settings,
            capabilities=capabilities,
            error_style=error_style,
            variables=variables,
            max_parallel=None,
            description=f"a fresh tenant per scenario at {settings.base_url}",
        )
        self._client_secret = client_secret
        self._cleaners: dict[str, Session] = {}
        self._common: Tenant | None = None

    def _common_tenant(self) -> Tenant:
        with self._lock:
            common = self._common
        if common is None:
            client_id = str(uuid.uuid4())
            auth = ClientCredentials(client_id, self._client_secret)
            key = tenant_key(auth)
            made = Tenant(f"common tenant {client_id[:8]}", self._session(auth, key), key)
            with self._lock:
                common = self._common = self._common or made
        return common

    @contextmanager
    def acquire_for_fixture(self, label: str) -> Iterator[Tenant]:
        yield self._common_tenant()

    @contextmanager
    def _hold(self, label: str, *, exclusive: bool) -> Iterator[Tenant]:
        if not exclusive:
            yield self._common_tenant()
            return
        client_id = str(uuid.uuid4())  # 36 characters, like the vendor's client ids
        auth = ClientCredentials(client_id, self._client_secret)
        key = tenant_key(auth)
        session = self._session(auth, key)
        try:
            yield Tenant(f"tenant {client_id[:8]}", session, key)
        finally:
            session.close()

    def key_of(self, session: Session) -> str:
        return tenant_key(session.auth)

    def session_for(self, key: str) -> Session | None:
        client_id = key.removeprefix("client ")
        if client_id == key:
            return None
        with self._lock:
            found = self._cleaners.get(key)
        if found is None:  # one per tenant: each item of the final cleanup needs no new token
            auth = ClientCredentials(client_id, self._client_secret)
            found = self._session(auth, key)
            with self._lock:
                found = self._cleaners.setdefault(key, found)
        return found


class SharedTenant(Tenants):
    """The one configured tenant of an external target. Holders that create no journal run
    share it, up to ``concurrency`` at once; a holder that does has it alone (a readers-writer
    lock that lets a waiting creator in before new sharers, so creators are not starved)."""

    def __init__(
        self,
        settings: HttpSettings,
        auth: Auth | None,
        *,
        capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES,
        error_style: ErrorStyle = "auto",
        variables: Mapping[str, Any] | None = None,
        concurrency: int = 1,
    ) -> None:
        super().__init__(
            settings,
            capabilities=capabilities,
            error_style=error_style,
            variables=variables,
            max_parallel=concurrency,
            description=f"the configured tenant at {settings.base_url}",
        )
        self._key = tenant_key(auth)
        self._shared = self._session(auth, self._key)
        self._turn = threading.Condition()
        self._sharers = 0
        self._alone = False
        self._creators_waiting = 0
        self._draining = False  # the last sharer out is cleaning up
        #: The ledger mark taken when the current group of sharers began.
        self._group_mark: int | None = None

    @property
    def session(self) -> Session:
        return self._shared

    @contextmanager
    def _hold(self, label: str, *, exclusive: bool) -> Iterator[Tenant]:
        tenant = Tenant("configured tenant", self._shared, self._key)
        if exclusive:
            with self._turn:
                self._creators_waiting += 1
                self._turn.wait_for(lambda: not self._alone and not self._sharers)
                self._creators_waiting -= 1
                self._alone = True
            try:
                yield tenant
            finally:
                with self._turn:
                    self._alone = False
                    self._turn.notify_all()
            return
        limit = self.max_parallel or 1
        with self._turn:
            self._turn.wait_for(
                lambda: (
                    not self._alone
                    and not self._draining
                    and not self._creators_waiting
                    and self._sharers < limit
                )
            )
            if self._sharers == 0 and self.protection is not None:
                self._group_mark = self.protection.ledger.mark()
            self._sharers += 1
        try:
            yield tenant
        finally:
            with self._turn:
                last = self._sharers == 1
                self._draining = last
                mark = self._group_mark
            try:
                if last and self.protection is not None and mark is not None:
                    # The last sharer out cleans what the group created (nothing, on a
                    # conforming server) before anyone else may hold the tenant.
                    tenant.left_behind = self._clean(self.protection, tenant, mark)
            finally:
                with self._turn:
                    self._sharers -= 1
                    self._draining = False
                    self._turn.notify_all()

    def _hand_back(self, protection: Protection, tenant: Tenant, mark: int) -> list[LeftBehind]:
        """The next holder needs no run of this block executing (one run at a time), not a
        clean tenant: once every run the block created has settled, the rest of the cleanup
        (cancel, delete) is the cleanup stage's, where all of them wait out their transitions
        side by side instead of one block's after another's. A run that does not settle is
        cleaned, or given up on, now, as on any tenant."""
        from ._cleanup import settle_or_clean

        items = protection.ledger.open_items(tenant.key, after=mark)
        return settle_or_clean(
            protection.ledger, items, tenant.session, wait_s=protection.cleanup_wait_s
        )

    def key_of(self, session: Session) -> str:
        return self._key

    def session_for(self, key: str) -> Session | None:
        return self._shared if key == self._key else None


def tenants_for(
    config: Config,
    *,
    run_id: str,
    base_url: str | None = None,
    client_secret: str = REFERENCE_CLIENT_SECRET,
    reference_style: ErrorStyle = "legacy",
    variables: Mapping[str, Any] | None = None,
) -> Tenants:
    """The tenants for ``config``: fresh ones on the embedded reference (``base_url`` is the URL
    it listens on; ``reference_style`` the default error style it says its tenants have, assumed
    unless the config names one), the configured one on an external target."""
    settings = config.http_settings(run_id, base_url)
    if config.is_reference:
        capabilities = REFERENCE_CAPABILITIES
        if config.capabilities is not None:
            capabilities = config.capabilities
        return FreshTenants(
            settings,
            client_secret=client_secret,
            capabilities=capabilities,
            error_style=reference_style if config.error_style == "auto" else config.error_style,
            variables=variables,
        )
    declared = config.capabilities if config.capabilities is not None else DEFAULT_CAPABILITIES
    return SharedTenant(
        settings,
        config.auth(),
        capabilities=declared,
        error_style=config.error_style,
        variables=variables,
        concurrency=config.concurrency,
    )
