"""Client-side pacing: the run's request budget, Retry-After and RateLimit-* headers."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping

import httpx

from .._exceptions import ConfigError
from ._constants import _RATE_LIMIT_LOW

# -- pacing ------------------------------------------------------------------------------------


class Pacer:
    """The request budget of one target, shared by every session of a run and by the fuzzer.

    ``per_min``: never more than that many requests in any window of 60 s. A token bucket that
    holds one request and refills at ``(per_min - 1) / 60`` a second does that (a bucket of
    capacity ``c`` and rate ``r`` lets ``c + 60 r`` through in a minute) and spreads requests
    evenly, so a polling step is never starved by a burst of other threads. ``None``: no budget.

    It also holds the pause a nearly spent ``RateLimit-*`` budget asks for, which is the
    target's and so every session's. ``reserve()`` says how long to wait before the next
    request; ``wait()`` waits it.
    """

    def __init__(
        self,
        per_min: float | None = None,
        *,
        max_wait_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_min = per_min
        self._clock = clock
        self._rate = 0.0
        if per_min is not None:
            if not per_min > 0:
                raise ConfigError(f"a rate limit must be > 0 requests a minute, not {per_min!r}")
            self._rate = (per_min - 1) / 60.0 if per_min >= 2 else per_min / 120.0
        self._max_wait_s = max_wait_s
        self._tokens = 1.0
        self._updated = clock()
        self._pause_until = 0.0  # monotonic; set by RateLimit-* headers
        self._spacing = 0.0  # between requests while paused: the last pause asked for
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next request's turn; the seconds to wait before sending it."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            if self._rate:
                self._tokens = min(1.0, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                self._tokens -= 1.0
                wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            paused = self._pause_until - now  # note() keeps a pause within bounds
            if paused > 0:
                # Senders waiting out the same pause go one spacing apart, not all at its end.
                self._pause_until += self._spacing
            return max(wait, paused)

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        wait = self.reserve()
        if wait > 0:
            sleep(wait)

    def note(self, headers: httpx.Headers | Mapping[str, str]) -> None:
        """Slow down when a response says the target's budget is nearly spent."""
        pause = min(_rate_limit_pause(headers), self._max_wait_s)
        if pause > 0:
            with self._lock:
                self._pause_until = max(self._pause_until, self._clock() + pause)
                self._spacing = pause


def _retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _rate_limit_pause(headers: httpx.Headers | Mapping[str, str]) -> float:
    """How long to hold the next request so a nearly spent ``RateLimit-*`` budget lasts until
    ``RateLimit-Reset``: the rest of the window spread evenly over the requests left."""
    try:
        limit = float(headers["RateLimit-Limit"].split(",")[0].split(";")[0])
        remaining = float(headers["RateLimit-Remaining"].split(",")[0].split(";")[0])
        reset = float(headers["RateLimit-Reset"].split(",")[0].split(";")[0])
    except (KeyError, ValueError, IndexError):
        return 0.0
    if limit <= 0 or remaining >= limit * _RATE_LIMIT_LOW:
        return 0.0
    if reset > 1e9:  # an epoch timestamp rather than delta-seconds
        reset -= time.time()
    reset = max(0.0, reset)
    return reset if remaining <= 0 else reset / remaining
