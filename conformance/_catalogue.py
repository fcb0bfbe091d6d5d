"""The contract: the OpenAPI spec and the requirement catalogue, loaded and looked up.

Everything the suite checks traces back to a :class:`Requirement` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["MUST", "SHOULD", "MAY"]

#: The small, linted vocabulary of areas. A requirement's ID names its area: ``JR-CANCEL-003``.
AREAS: tuple[str, ...] = (
    "create",
    "retrieve",
    "cancel",
    "delete",
    "entries",
    "headers",
    "errors",
    "auth",
    "versions",
)


@dataclass(frozen=True)
class Requirement:
    """One normative statement, in the project's own words, with where it comes from."""

    id: str
    level: Level
    statement: str
    area: str
    source: str = ""
    operations: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())
    #: How a conforming server may behave where the documents leave a choice.
    decision: str = ""
    #: ``checked`` (some check names it), or why no check can: ``not-observable: ...``.
    verification: str = "checked"

    @property
    def testable(self) -> bool:
        return not self.verification.startswith("not-observable")
