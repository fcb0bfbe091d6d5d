"""The vendor's hosts as the suite tells them apart: production (never written to unless
allowed) and sandbox or test (paced at the documented API Sandbox limit by default)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: The documented production hosts.
PRODUCTION_HOSTS = frozenset(
    {"rest.zuora.com", "rest.na.zuora.com", "rest.eu.zuora.com", "rest.ap.zuora.com"}
)
# Labels that mark a zuora.com host as a sandbox or test environment.
_NON_PRODUCTION_LABELS = re.compile(r"^(api)?sandbox|^test$|^sandbox")


def is_production_host(url: str) -> bool:
    """Whether ``url`` points at a Zuora production host.

    The documented ones (``rest.zuora.com``, ``rest.na|eu|ap.zuora.com``) are, and so, to be safe,
    is any other ``zuora.com`` host that does not name a sandbox or test environment.
    """
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").rstrip(".").lower()
    if host in PRODUCTION_HOSTS:
        return True
    if host != "zuora.com" and not host.endswith(".zuora.com"):
        return False
    labels = host.split(".")[:-2]
    return not any(_NON_PRODUCTION_LABELS.search(label) for label in labels)


#: The vendor's documented API Sandbox limit, the default pace against its sandbox hosts.
SANDBOX_RATE_LIMIT_PER_MIN = 2500.0


def is_vendor_sandbox_host(url: str) -> bool:
    """Whether ``url`` points at one of the vendor's sandbox or test hosts (``zuora.com``)."""
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").rstrip(".").lower()
    on_vendor = host == "zuora.com" or host.endswith(".zuora.com")
    return on_vendor and not is_production_host(url)
