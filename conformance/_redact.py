"""Keeping secrets out of evidence, reports and messages.

A :class:`Redactor` learns secret strings as they become known (a static token, a client secret,
each fetched access token) and scrubs them from anything the suite records. On top of that it
blanks the values of credential-looking headers, JSON keys, form fields and query parameters, so a
secret it was never told about (say, a token a server echoes back) does not leak either.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"

#: Bodies in evidence are cut at this many bytes.
DEFAULT_BODY_LIMIT = 4096

#: JSON keys, form fields and query parameters whose values are always blanked (lower case,
#: compared after dropping ``-`` and ``_`` so ``clientSecret`` and ``client-secret`` match too).
SECRET_KEYS = frozenset(
    {
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "token",
        "clientsecret",
        "secret",
        "password",
        "apikey",
        "apiaccesskeyid",
        "apisecretaccesskey",
        "authorization",
    }
)

#: Headers whose whole value is a credential.
_SECRET_HEADERS = frozenset(
    {"proxy-authorization", "cookie", "set-cookie", "apiaccesskeyid", "apisecretaccesskey"}
)

# Parsing a huge JSON body just to blank some keys is not worth it; known secrets are still
# scrubbed from such bodies by plain string replacement.
_MAX_STRUCTURED_BYTES = 1 << 20

_JSON_TYPE = re.compile(r"[/+]json\b", re.IGNORECASE)


def is_secret_key(name: str) -> bool:
    return name.lower().replace("_", "").replace("-", "") in SECRET_KEYS


class Redactor:
    """Scrubs known secrets and credential-looking values; safe to share between threads."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Remember ``secret`` (and its URL-encoded forms) so that it is scrubbed from now on."""
        if not secret:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
        with self._lock:
            known = set(self._secrets) | forms
            # Longest first, so a secret that contains another is replaced whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    @property
    def secrets(self) -> list[str]:
        """Every secret it scrubs (to hand to another process's redactor: never to print)."""
        return list(self._secrets)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced by ``[REDACTED]``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def url(self, url: str) -> str:
        """``url`` with secret query parameters blanked and known secrets scrubbed."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:  # not a URL we can take apart: scrub what we know
            return self.scrub(url)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            if any(is_secret_key(name) for name, _ in pairs):
                query = urlencode([(n, REDACTED if is_secret_key(n) else v) for n, v in pairs])
                url = urlunsplit(parts._replace(query=query))
        if parts.password:
            url = url.replace(f":{parts.password}@", f":{REDACTED}@", 1)
        return self.scrub(url)

    def headers(self, headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
        """A plain dict of ``headers`` with credentials blanked (``Bearer [REDACTED]``)."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        result: dict[str, str] = {}
        for name, value in items:
            lower = name.lower()
            if lower == "authorization":
                scheme, _, credential = value.partition(" ")
                value = f"{scheme} {REDACTED}" if credential else REDACTED
            elif lower in _SECRET_HEADERS:
                value = REDACTED
            else:
                value = self.scrub(value)
            result[name] = value
        return result

    def body(
        self,
        content: bytes | None,
        content_type: str | None = None,
        limit: int = DEFAULT_BODY_LIMIT,
    ) -> str | None:
        """``content`` as redacted text for evidence, cut at ``limit`` bytes; ``None`` if empty."""
        if not content:
            return None
        text = content.decode("utf-8", errors="replace")
        if len(content) <= _MAX_STRUCTURED_BYTES:
            text = self._structured(text, (content_type or "").lower())
        return truncate(self.scrub(text), limit)

    def _structured(self, text: str, content_type: str) -> str:
        if "x-www-form-urlencoded" in content_type:
            pairs = parse_qsl(text, keep_blank_values=True)
            if any(is_secret_key(name) for name, _ in pairs):
                return urlencode([(n, REDACTED if is_secret_key(n) else v) for n, v in pairs])
            return text
        stripped = text.lstrip()
        if not (_JSON_TYPE.search(content_type) or stripped[:1] in ("{", "[")):
            return text
        try:
            data = json.loads(text)
        except ValueError:
            return text
        redacted, changed = _redact_json(data)
        return json.dumps(redacted, ensure_ascii=False) if changed else text


def _redact_json(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        changed = False
        result: dict[str, Any] = {}
        for key, item in value.items():
            if is_secret_key(str(key)) and item not in (None, ""):
                result[key], changed = REDACTED, True
            else:
                result[key], sub = _redact_json(item)
                changed = changed or sub
        return result, changed
    if isinstance(value, list):
        items = [_redact_json(item) for item in value]
        return [item for item, _ in items], any(sub for _, sub in items)
    return value, False


def truncate(text: str, limit: int = DEFAULT_BODY_LIMIT) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, with a ``…[truncated N bytes]`` marker."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    # Cutting inside a multi-byte character leaves a partial one; drop it.
    kept = encoded[:limit].decode("utf-8", errors="ignore")
    dropped = len(encoded) - len(kept.encode("utf-8"))
    return f"{kept}…[truncated {dropped} bytes]"
