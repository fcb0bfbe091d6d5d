"""The reference server's settings: one frozen, validated value shared by every part of it."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal

from .._exceptions import ConfigError
from ._faults import FAULTS, check_fault_names
from ._seed import DEFAULT_PERIODS, monthly_periods, parse_month
from ._variants import VARIANTS, check_variant_names

ErrorStyle = Literal["legacy", "modern"]
#: The most monthly periods a tenant may have (100 years), so the period list stays small.
MAX_PERIODS = 1200


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
    #: Conforming alternatives (see ``_variants.VARIANTS``); empty for the reference's own reading.
    variants: frozenset[str] = frozenset()
    #: Where ``ReferenceServer`` and ``serve`` listen; port 0 picks a free port.
    host: str = "127.0.0.1"
    port: int = 0
    #: Largest request body accepted, before and after gzip decompression (bomb guard).
    max_body_bytes: int = 1 << 20
    #: How long an Idempotency-Key answer is replayed.
    idempotency_ttl: float = 24 * 3600.0
    #: The tenant's accounting periods: first and last month (``YYYY-MM``), one Open period per
    #: month named like "Nov-2014". A period outside them does not exist.
    periods: tuple[str, str] = DEFAULT_PERIODS
    #: The earliest allowed target date (``YYYY-MM-DD``); None = no lower bound. The vendor sets
    #: 2015-01-01 for tenants that enabled the feature after March 2015.
    earliest_date: str | None = None

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
        self._check_periods()
        # Normalise to immutable types so a list or set from a caller cannot change later.
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "faults", check_fault_names(self.faults))
        object.__setattr__(self, "variants", check_variant_names(self.variants))

    def _check_periods(self) -> None:
        periods = self.periods
        if (
            isinstance(periods, str)
            or not isinstance(periods, tuple | list)
            or len(periods) != 2
            or not all(isinstance(month, str) for month in periods)
        ):
            raise ConfigError(
                f"periods must be (first month, last month) like ('2014-01', '2027-12'), "
                f"not {periods!r}"
            )
        try:
            first, last = (parse_month(month) for month in periods)
        except ValueError as error:
            raise ConfigError(f"periods: {error}") from None
        if first > last:
            raise ConfigError(
                f"periods: the first month {periods[0]} is after the last month {periods[1]}"
            )
        if (last[0] - first[0]) * 12 + last[1] - first[1] >= MAX_PERIODS:
            raise ConfigError(f"periods: at most {MAX_PERIODS} months, not {periods!r}")
        object.__setattr__(self, "periods", (periods[0], periods[1]))
        if self.earliest_date is not None:
            value = self.earliest_date
            try:
                if not isinstance(value, str) or len(value) != 10:
                    raise ValueError
                earliest = dt.date.fromisoformat(value)
            except ValueError:
                raise ConfigError(
                    f"earliest_date must be a date in the format YYYY-MM-DD, not {value!r}"
                ) from None
            last_day = monthly_periods(*self.periods)[-1].end
            if earliest > last_day:
                raise ConfigError(
                    f"earliest_date {value} is after the last period ({periods[1]}): no target "
                    "date would be allowed"
                )

    @property
    def earliest(self) -> dt.date | None:
        """``earliest_date`` as a date."""
        return None if self.earliest_date is None else dt.date.fromisoformat(self.earliest_date)

    def has_fault(self, name: str) -> bool:
        if name not in FAULTS:  # a typo at a fault point must not silently disable the fault
            raise KeyError(f"undeclared fault {name!r}")
        return name in self.faults

    @property
    def declared_style(self) -> Literal["auto", "legacy", "modern"]:
        """The default error style the reference tells the suite that starts it: its own, or
        "auto" (it does not say) under default-modern-style, whose point is a tenant default the
        suite was not told."""
        if self.has_variant("default-modern-style"):  # VARIANT default-modern-style
            return "auto"
        return self.error_style

    def has_variant(self, name: str) -> bool:
        if name not in VARIANTS:  # a typo at a variant point must not silently disable it
            raise KeyError(f"undeclared variant {name!r}")
        return name in self.variants
