"""One exception hierarchy for the whole suite.

Every error a user can cause or meet derives from :class:`ConformanceError`, so the CLI can turn
any of them into one readable line and the documented exit code, never a traceback.
"""

from __future__ import annotations

from typing import Any


class ConformanceError(Exception):
    """Base of every error the suite raises on purpose."""

    #: The process exit code the CLI uses when this error ends a command.
    exit_code = 3


class UsageError(ConformanceError):
    """The command line, a selection or an argument is wrong (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file, flag or environment variable is invalid."""


class CatalogueError(ConformanceError):
    """The spec or the requirement catalogue is missing or invalid."""


class ScenarioFormatError(UsageError):
    """A scenario file is malformed; the message names the file, line and reason."""


class SetupError(ConformanceError):
    """The target cannot be tested: unreachable, TLS, bad credentials, wrong base path (exit 3)."""

    exit_code = 3


class TransportError(ConformanceError):
    """One HTTP exchange failed below the API level: timeout, refused, reset, oversized body."""


class TargetUnavailable(TransportError):
    """The final answer to a request was still transient (502/503/504, 500 category 61): the
    check that sent it ends ERROR ("the target was unavailable"), never FAIL.

    ``response``: that last answer (the fuzz stage hands it to schemathesis, which records it
    and no check judges)."""

    def __init__(self, message: str, response: Any = None) -> None:
        super().__init__(message)
        self.response = response
