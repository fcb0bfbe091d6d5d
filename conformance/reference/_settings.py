"""The reference server's settings: one frozen, validated value shared by every part of it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from .._exceptions import ConfigError
from ._faults import FAULTS, check_fault_names

ErrorStyle = Literal["legacy", "modern"]


@dataclass(frozen=True)
class ReferenceSettings:
    """How one reference server behaves. Every field has a default that suits fast tests.

    Secrets (``client_secret``, ``tokens``) are kept out of ``repr`` so a log never shows them.
    """

    #: SQLite file; ``None`` keeps everything in memory (lost when the server stops).
    db_path: str | None = None
    #: Seconds between lifecycle steps (Pending -> Processing -> Completed, cancel, delete).
    #: 0 makes a run complete as soon as anyone looks; about 2 makes the states visible by hand.
    delay: float = 0.0
    #: How errors are answered when the request names no modern ``Zuora-Version`` (or an unknown
    #: or numeric one): ``legacy`` = HTTP 200 with success:false, ``modern`` = the category status.
    error_style: ErrorStyle = "legacy"
    #: ``POST /oauth/token`` accepts any client_id whose client_secret equals this.
    client_secret: str = field(default="reference-secret", repr=False)
    #: Static bearer tokens, each its own tenant (no OAuth round trip needed).
    tokens: tuple[str, ...] = field(default=(), repr=False)
    #: Seconds an OAuth token stays valid.
    token_lifetime: float = 3600.0
    #: Requests per tenant per window before 429 (category 70).
    rate_limit: int = 10_000
    rate_window: float = 60.0
    #: Deliberate deviations (see ``_faults.FAULTS``); empty for the faithful reference.
    faults: frozenset[str] = frozenset()
    #: Where ``ReferenceServer`` and ``serve`` listen; port 0 picks a free port.
    host: str = "127.0.0.1"
    port: int = 0
    #: Largest request body accepted, before and after gzip decompression (bomb guard).
    max_body_bytes: int = 1 << 20
    #: How long an Idempotency-Key answer is replayed.
    idempotency_ttl: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if self.error_style not in ("legacy", "modern"):
            raise ConfigError(f"error_style must be 'legacy' or 'modern', not {self.error_style!r}")
        for name in ("delay", "token_lifetime", "rate_window", "idempotency_ttl"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{name} must be a number of seconds, not {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a finite number >= 0, not {value!r}")
        if self.token_lifetime <= 0 or self.rate_window <= 0:
            raise ConfigError("token_lifetime and rate_window must be greater than 0")
        for name in ("rate_limit", "max_body_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, not {value!r}")
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be 0..65535, not {self.port!r}")
        if not self.client_secret:
            raise ConfigError("client_secret must not be empty")
        if any(
            not token or not token.isascii() or not token.isprintable() for token in self.tokens
        ):
            raise ConfigError("every static token must be non-empty printable ASCII")
        # Normalise to immutable types so a list or set from a caller cannot change later.
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "faults", check_fault_names(self.faults))

    def has_fault(self, name: str) -> bool:
        if name not in FAULTS:  # a typo at a fault point must not silently disable the fault
            raise KeyError(f"undeclared fault {name!r}")
        return name in self.faults
