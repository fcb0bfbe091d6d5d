"""Every deliberate deviation the reference server can be told to make, declared in one table.

A fault turns the faithful reference into a known-broken implementation, so the suite can prove
that it notices (``selftest``). Each fault names the requirement IDs it breaks; the code that
deviates checks ``settings.has_fault(NAME)`` at one clearly marked point (grep ``FAULT``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .._exceptions import ConfigError


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    #: The requirement IDs (``spec/requirements.yaml``) a suite must report as failed.
    breaks: tuple[str, ...]


_ALL: tuple[Fault, ...] = (
    Fault(
        "delete-completed",
        "DELETE /v1/journal-runs/{jr} is accepted for a Completed run, not only a Cancelled one.",
        breaks=("JR-DELETE-002",),
    ),
    Fault(
        "modern-errors-as-200",
        "Rejected requests are answered HTTP 200 with success:false even under "
        "Zuora-Version 2024-05-20 or later.",
        breaks=("JR-VERSIONS-003",),
    ),
    Fault(
        "seven-digit-codes",
        "Error codes have seven digits instead of eight (resource code + category).",
        breaks=("JR-ERRORS-004",),
    ),
)

#: name -> Fault, in declaration order.
FAULTS: Mapping[str, Fault] = {fault.name: fault for fault in _ALL}


def check_fault_names(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset, or a ConfigError naming the unknown ones and the valid ones."""
    chosen = frozenset(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ConfigError(
            f"unknown fault {', '.join(map(repr, unknown))}; valid faults: {', '.join(FAULTS)}"
        )
    return chosen
