"""Blame as data: which requirement a broken schema, an envelope field or a fuzz finding fails.

The requirement catalogue states it (``blame`` in ``spec/requirements.yaml``); the scenarios and
the fuzz stage both ask :class:`Blame`, so a finding names the same requirement whichever engine
saw it. The catalogue's loader checks the rules (:meth:`Blame.problems`): a fuzz finding names a
requirement among its check's, and the tables agree with each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckBlame:
    """What one fuzz check reports: its requirements, and what each of its findings fails."""

    requirements: tuple[str, ...]
    findings: Mapping[str, str]
    #: Tables of :class:`Blame` (``schema``, ``envelope``) the check also names requirements from.
    reports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Blame:
    """The catalogue's ``blame`` section."""

    #: Envelope field (dotted path, ``*`` for any list item) -> requirement.
    envelope: Mapping[str, str]
    #: The requirement an error body that breaks its schema fails (outside the envelope fields).
    schema_error: str
    #: operationId -> the requirement a success body that breaks its schema fails.
    schema_success: Mapping[str, str]
    #: ``modern``, ``legacy``, ``default``, ``unknown-version``, ``code-format`` -> requirement.
    style: Mapping[str, str]
    #: Fuzz check id -> what it reports.
    checks: Mapping[str, CheckBlame] = field(default_factory=dict)

    # -- asking ----------------------------------------------------------------------------------

    def envelope_field(self, path: Sequence[str | int]) -> str | None:
        """The requirement of the envelope field at ``path`` (or above it); ``None`` when the path
        is not in the envelope. The longest matching entry wins: ``reasons/0/code`` is the code
        format's, ``reasons/0/message`` the reasons'."""
        best: tuple[int, str] | None = None
        parts = [str(part) for part in path]
        for key, requirement in self.envelope.items():
            segments = key.split(".")
            if len(segments) > len(parts):
                continue
            matches = all(s in ("*", p) for s, p in zip(segments, parts, strict=False))
            if matches and (best is None or len(segments) > best[0]):
                best = (len(segments), requirement)
        return best[1] if best else None

    def schema_violation(
        self, operation_id: str | None, success: bool, path: Sequence[str | int] = ()
    ) -> str:
        """The requirement a body breaking its schema at ``path`` fails: the envelope field's, or
        else the operation's success answer's, or else (errors, unknown operations) the error
        envelope's. The one rule both engines use."""
        envelope = self.envelope_field(path)
        if envelope is not None:
            return envelope
        if success and operation_id is not None and operation_id in self.schema_success:
            return self.schema_success[operation_id]
        return self.schema_error

    def version_style(self, style: str) -> str:
        """The requirement an error's HTTP status fails in ``style`` (``modern``, ``legacy``,
        ``default``), or ``unknown-version`` / ``code-format``."""
        return self.style[style]

    def check(self, check_id: str) -> tuple[str, ...]:
        """The requirements fuzz check ``check_id`` reports."""
        return self.checks[check_id].requirements

    def finding(self, check_id: str, name: str) -> str:
        """The requirement finding ``name`` of fuzz check ``check_id`` fails."""
        return self.checks[check_id].findings[name]

    # -- the rules the loader checks ------------------------------------------------------------

    def requirement_ids(self) -> Iterable[tuple[str, str]]:
        """``(where, requirement id)`` for every ID the tables name."""
        for key, rid in self.envelope.items():
            yield f"blame.envelope.{key}", rid
        yield "blame.schema.error", self.schema_error
        for key, rid in self.schema_success.items():
            yield f"blame.schema.success.{key}", rid
        for key, rid in self.style.items():
            yield f"blame.style.{key}", rid
        for check_id, check in self.checks.items():
            for rid in check.requirements:
                yield f"blame.checks.{check_id}.requirements", rid
            for name, rid in check.findings.items():
                yield f"blame.checks.{check_id}.findings.{name}", rid

    def problems(self, requirements: Iterable[str], operations: Iterable[str]) -> list[str]:
        """What is wrong with the tables, one line each; empty when all is well."""
        known, ops = set(requirements), list(operations)
        problems = [
            f"{where}: unknown requirement {rid}"
            for where, rid in self.requirement_ids()
            if rid not in known
        ]
        for op in ops:
            if op not in self.schema_success:
                problems.append(f"blame.schema.success: no requirement for operation {op}")
        for op in self.schema_success:
            if op not in ops:
                problems.append(f"blame.schema.success.{op}: not an operation of the spec")
        tables = {
            "schema": {self.schema_error, *self.schema_success.values()},
            "envelope": set(self.envelope.values()),
        }
        shared = {**self.envelope, **self.style}
        for check_id, check in self.checks.items():
            where = f"blame.checks.{check_id}"
            for name, rid in check.findings.items():
                if rid not in check.requirements:
                    problems.append(
                        f"{where}.findings.{name}: {rid} is not among the check's requirements"
                    )
                if name in shared and shared[name] != rid:
                    problems.append(
                        f"{where}.findings.{name}: {rid}, but the table names {shared[name]}"
                    )
            for table in check.reports:
                missing = sorted(tables.get(table, set()) - set(check.requirements))
                if missing:
                    problems.append(
                        f"{where}: reports the {table} table but lacks {', '.join(missing)}"
                    )
        return problems


def parse_blame(raw: Mapping[str, Any]) -> Blame:
    """A :class:`Blame` from the catalogue's ``blame`` section (already schema-validated)."""
    return Blame(
        envelope=dict(raw["envelope"]),
        schema_error=raw["schema"]["error"],
        schema_success=dict(raw["schema"]["success"]),
        style=dict(raw["style"]),
        checks={
            check_id: CheckBlame(
                tuple(check["requirements"]),
                dict(check["findings"]),
                tuple(check.get("reports", ())),
            )
            for check_id, check in raw["checks"].items()
        },
    )
