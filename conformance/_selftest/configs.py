"""What runs: the clean configurations of the faithful reference, and the fast mode's budget."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Fuzz examples per operation in the fast mode (the full mode uses the run's default).
FAST_MAX_EXAMPLES = 5
#: How long the run's cleanup may wait for one run or entry. The embedded reference and all it
#: holds are gone when a job ends, so cleaning up there is tried once, never waited for (a faulty
#: reference may never let go of a run, and a full run leaves dozens). Verdicts do not change.
CLEANUP_WAIT_S = 0.0


@dataclass(frozen=True)
class CleanConfig:
    """One valid way to run the faithful reference: the suite must find nothing wrong."""

    name: str
    description: str
    #: Changes to ``ReferenceSettings``.
    reference: Mapping[str, Any] = field(default_factory=dict)
    #: Settings of the run (``load_config`` flags): what the suite is told about the target.
    flags: Mapping[str, Any] = field(default_factory=dict)
    #: Keep the reference's state in a SQLite file (a fresh temporary one) instead of memory.
    sqlite_file: bool = False


CLEAN_CONFIGS: tuple[CleanConfig, ...] = (
    CleanConfig("default", "legacy error style by default, no lifecycle delay, state in memory"),
    CleanConfig(
        "modern-style",
        "the tenant's default error style is modern, and the suite is told so",
        reference={"error_style": "modern"},
        flags={"error_style": "modern"},
    ),
    CleanConfig(
        "slow-lifecycle",
        "0.2 s between lifecycle steps: Pending, Processing, CancelInprogress and "
        "DeleteInprogress are seen while polling",
        reference={"delay": 0.2},
    ),
    CleanConfig(
        "legacy-version",
        "the suite sends Zuora-Version 341.0: every error is HTTP 200 with success false",
        flags={"zuora_version": "341.0"},
    ),
    CleanConfig(
        "newest-version",
        "the suite sends Zuora-Version 2025-08-12",
        flags={"zuora_version": "2025-08-12"},
    ),
    CleanConfig(
        "earliest-date",
        "the tenant's earliest target date is 2015-01-01, and the suite is told so: both sides "
        "of the boundary are checked in the period Jan-2015",
        reference={"earliest_date": "2015-01-01"},
        flags={"earliest_date": "2015-01-01"},
    ),
    CleanConfig(
        "earliest-gap",
        "periods 2024-01 to 2026-12 and the earliest target date 2015-01-01, in no period: the "
        "day before is checked, the day itself skipped with the reason",
        reference={"periods": ("2024-01", "2026-12"), "earliest_date": "2015-01-01"},
        flags={"earliest_date": "2015-01-01"},
    ),
    CleanConfig(
        "earliest-gap-modern",
        "as earliest-gap, with the modern error style by default (the suite is told)",
        reference={
            "periods": ("2024-01", "2026-12"),
            "earliest_date": "2015-01-01",
            "error_style": "modern",
        },
        flags={"earliest_date": "2015-01-01", "error_style": "modern"},
    ),
    CleanConfig(
        "sqlite-file",
        "the reference keeps its state in a SQLite file, with a short lifecycle delay",
        reference={"delay": 0.05},
        sqlite_file=True,
    ),
)

#: The clean configurations each variant runs in alone: a tenant with periods 2024-01 to 2026-12
#: only (no 2014, unlike the documents' examples) and earliest target date 2015-01-01, in both
#: error styles.
VARIANT_BASES = ("earliest-gap", "earliest-gap-modern")
#: The name of the combination of every variant.
ALL_VARIANTS = "all-variants"


def clean_config(name: str) -> CleanConfig:
    return next(c for c in CLEAN_CONFIGS if c.name == name)
