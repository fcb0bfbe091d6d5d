"""The session's fixed values."""

from __future__ import annotations

from .._version import __version__

USER_AGENT = f"journal-runs-conformance/{__version__}"
MAX_TRACK_ID = 64
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Tokens are refreshed this long before the server says they expire.
_TOKEN_MARGIN_S = 60.0
# Below this share of RateLimit-Limit left, requests are spread over the rest of the window.
_RATE_LIMIT_LOW = 0.10
_CHUNK = 64 * 1024
