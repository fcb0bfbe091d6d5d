"""The reference implementation of the Journal Runs API: the suite's embedded default target.

It stands apart from the suite: the suite talks to it over HTTP exactly as to any other server,
and never imports it. ``ReferenceServer`` runs it in a background thread; ``create_app`` gives the
ASGI app; ``FAULTS`` lists the deliberate deviations it can be told to make, ``VARIANTS`` the
conforming alternatives it can be told to take.
"""

from ._app import create_app
from ._faults import FAULTS, Fault
from ._server import ReferenceServer, serve
from ._settings import ReferenceSettings
from ._variants import VARIANTS, Variant

__all__ = [
    "FAULTS",
    "VARIANTS",
    "Fault",
    "ReferenceServer",
    "ReferenceSettings",
    "Variant",
    "create_app",
    "serve",
]
