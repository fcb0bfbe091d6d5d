"""The implementation under test: the embedded reference server, or whatever a base URL names.

The reference stands apart from the suite: it is only ever started here, and the suite talks to it
over HTTP exactly as to any other implementation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._config import Config, ErrorStyle
from ._tenant_data import TenantSettings

if TYPE_CHECKING:
    from .reference import ReferenceSettings


#: The embedded reference's earliest allowed target date when the caller gives no settings (the
#: facts' "tenants that enabled the feature after March 2015" refuse dates before 2015).
EMBEDDED_EARLIEST_DATE = "2015-01-01"


@dataclass(frozen=True)
class LiveTarget:
    """A target that is up: where it listens and what it is."""

    base_url: str
    #: ``reference`` for the embedded reference server, ``external`` for anything else.
    implementation: str
    #: The OAuth client secret that makes fresh tenants (the embedded reference only).
    client_secret: str = ""
    #: The error style the embedded reference says its tenants default to, which the suite
    #: assumes unless told otherwise; "auto" when it does not say (as an external target).
    default_style: ErrorStyle = "legacy"
    #: The earliest target date the embedded reference refuses dates before, which the suite
    #: uses unless told another (no API says it; an external target's comes from the config).
    earliest_date: str | None = None

    @property
    def is_reference(self) -> bool:
        return self.implementation == "reference"

    def tenant_settings(self, config: Config) -> TenantSettings:
        """The configuration's tenant settings, with what the embedded reference says of itself
        where the configuration is silent."""
        settings = config.tenant_settings()
        if settings.earliest_date is None and self.earliest_date is not None:
            earliest = dt.date.fromisoformat(self.earliest_date)
            settings = dataclasses.replace(settings, earliest_date=earliest)
        return settings


@contextmanager
def open_target(config: Config, reference: ReferenceSettings | None = None) -> Iterator[LiveTarget]:
    """Yield the target of ``config``, starting (and afterwards stopping) the embedded reference
    server when no base URL is configured; ``reference`` configures it (the self-test starts it
    with faults, delays or another error style)."""
    if config.base_url is not None:
        yield LiveTarget(config.base_url, "external")
        return
    from .reference import ReferenceServer, ReferenceSettings

    # Started for the main job, the reference is a tenant with an earliest target date, so the
    # checks of that boundary run out of the box.
    settings = reference or ReferenceSettings(earliest_date=EMBEDDED_EARLIEST_DATE)
    with ReferenceServer(settings, own_process=True) as server:
        yield LiveTarget(
            server.url,
            "reference",
            settings.client_secret,
            settings.declared_style,
            earliest_date=settings.earliest_date,
        )
