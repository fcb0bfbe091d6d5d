"""What a scenario file says, as plain frozen values: scenario, step, expectation.

The loader builds these from YAML (and has already checked them); the runner only reads them.
Values may still hold ``${var}`` templates: they are resolved when the step runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

#: Where an expectation looks.
Target = Literal["status", "error", "body", "header"]

#: The operators a body or header check may use, in the order they are evaluated and described.
OPERATORS: tuple[str, ...] = (
    "exists",
    "absent",
    "type",
    "equals",
    "not_equals",
    "in",
    "not_in",
    "matches",
    "length",
    "min",
    "max",
)


@dataclass(frozen=True)
class Expectation:
    """One thing a response must show, tied to the requirements it verifies.

    ``target`` ``status``: ``operators`` has ``in`` (allowed statuses). ``error``: ``operators``
    has ``category`` (allowed categories). ``body``: ``path`` is the parsed path (``*`` matches
    every item). ``header``: ``path`` is ``(name,)``.
    """

    target: Target
    path: tuple[str, ...]
    operators: dict[str, Any]
    requirement_ids: tuple[str, ...]
    #: The path as written in the file (``/status``, ``journalEntries.0.number``, a header name).
    source: str = ""
    line: int = 0


@dataclass(frozen=True)
class ExpectBlock:
    """Expectations that judge one response together (``expect``, ``until``, ``fail_fast``)."""

    expectations: tuple[Expectation, ...] = ()
    line: int = 0

    def __bool__(self) -> bool:
        return bool(self.expectations)


@dataclass(frozen=True)
class Repeat:
    """Send the step again until ``until`` holds; stop early, failed, when ``fail_fast`` holds."""

    until: ExpectBlock
    fail_fast: ExpectBlock = field(default_factory=ExpectBlock)
    deadline_s: float = 60.0
    max_interval_s: float = 2.0


@dataclass(frozen=True)
class Race:
    """The state a step relies on may end by itself (a real server's run leaves Processing on
    its own). Unless the target has ``held_by`` (it holds the state for the suite), a response
    where ``still`` does not hold ends the scenario skipped, too fast to observe: a poll of the
    step itself, or ``read``, sent right after a step whose expectations failed (the state may
    have ended between the look and the step)."""

    still: ExpectBlock
    held_by: str
    read: Step | None = None


@dataclass(frozen=True)
class ForEach:
    """Run the step once per item of ``items`` (a list, or a template naming a saved list)."""

    var: str
    items: Any
    exclude: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Save:
    """Keep a value of the response under a variable name: from the body, or a header."""

    name: str
    target: Literal["body", "header"]
    path: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Step:
    name: str
    operation: str
    #: Overrides the spec's method (a method the API does not offer).
    method: str | None = None
    #: Called instead of the operation's path (a ``nextPage`` link); same origin only.
    url: str | None = None
    path_params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str | None] = field(default_factory=dict)
    #: Headers sent only to a target with a capability: name -> (value, capability).
    headers_when: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The JSON body; ``has_body`` tells a literal ``null`` body from none.
    body: Any = None
    has_body: bool = False
    raw_body: str | None = None
    gzip_body: bool = False
    auth: bool = True
    for_each: ForEach | None = None
    repeat: Repeat | None = None
    race: Race | None = None
    expect: ExpectBlock = field(default_factory=ExpectBlock)
    save: tuple[Save, ...] = ()
    description: str = ""
    line: int = 0

    @property
    def expects_refusal(self) -> bool:
        """Whether ``expect`` wants the request refused: an ``error`` expectation, or only
        4xx/5xx statuses allowed (what it saves is then only for cleanup)."""
        for expectation in self.expect.expectations:
            if expectation.target == "error":
                return True
            if expectation.target == "status":
                allowed = expectation.operators.get("in", ())
                if allowed and all(int(status) >= 400 for status in allowed):
                    return True
        return False


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    requirements: tuple[str, ...]
    steps: tuple[Step, ...]
    cleanup: tuple[Step, ...] = ()
    capabilities: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    #: Fixtures whose saved values the steps use (``${run}``): made once per tenant, shared.
    uses: tuple[str, ...] = ()
    #: A fixture's own: the saved names it gives the scenarios that use it (empty: a scenario).
    provides: tuple[str, ...] = ()
    #: Whether a step may create a journal run or entry (it writes without expecting a
    #: refusal): such a scenario has its tenant alone; the others may share it.
    creates: bool = True
    #: One of the catalogue's areas: the scenario's folder, or its first requirement's area.
    area: str = ""
    #: The file it came from, and that file as shown in messages (``scenarios/cancel/x.yaml``).
    path: Path | None = None
    display_path: str = ""

    @property
    def is_fixture(self) -> bool:
        return bool(self.provides)

    def matches(self, selector: str) -> bool:
        """Whether ``selector`` names this scenario: its id, a tag, its area or a requirement.

        Shell-style wildcards are allowed (``cancel-*``, ``JR-CANCEL-*``).
        """
        from fnmatch import fnmatchcase

        names = (self.id, self.area, *self.tags, *self.requirements, *self.all_requirement_ids())
        return any(fnmatchcase(name, selector) for name in names)

    def all_requirement_ids(self) -> tuple[str, ...]:
        """The scenario's requirements and every requirement an expectation of a step names.

        Cleanup steps judge nothing, so their expectations do not count.
        """
        ids = dict.fromkeys(self.requirements)
        for step in self.steps:
            blocks = [step.expect]
            if step.repeat:
                blocks += [step.repeat.until, step.repeat.fail_fast]
            for block in blocks:
                for expectation in block.expectations:
                    ids.update(dict.fromkeys(expectation.requirement_ids))
        return tuple(ids)
