"""``jr-conformance selftest``: the suite proves that it notices what it claims to notice.

The reference server can make deliberate deviations (``conformance.reference.FAULTS``), each
declaring the requirement IDs it breaks. The self-test runs the suite against every fault and
against the clean reference in several valid configurations, and scores itself:

- a fault is *caught* when a check's verdict on a requirement the fault declares is FAIL, as the
  reports would show it (a check that merely errors, or blames another requirement, does not
  count);
- a clean configuration must pass everything: a failure there is a false alarm;
- so must every reference *variant* (``conformance.reference.VARIANTS``), a conforming alternative
  reading of a requirement's decision: each variant alone on the tenant of ``VARIANT_BASES`` in
  both error styles, and all variants at once in every clean configuration. A failure there is a
  false alarm too: the suite rejected a reading the catalogue allows.

The mutation score is caught faults over all faults; the self-test passes at 100 % with no false
alarm on any clean configuration or variant. Two modes:

- **full**: the whole suite (every scenario, the fuzz stage at its default budget) each time;
- **fast**: per fault, only the checks that could catch it (the scenarios naming a requirement it
  declares, then, if they missed it, the fuzz checks naming one, with a small budget); the clean
  configurations still run every check, with the small fuzz budget. A variant alone runs the
  checks naming a requirement it reads (every check for a variant of HTTP itself, which has no
  readings); all variants at once run every check.
"""

from __future__ import annotations

from .configs import (
    ALL_VARIANTS,
    CLEAN_CONFIGS,
    CLEANUP_WAIT_S,
    FAST_MAX_EXAMPLES,
    VARIANT_BASES,
    CleanConfig,
)
from .jobs import Job, fast_selection, run_job, variant_jobs
from .outcomes import (
    SELFTEST_SCHEMA_VERSION,
    CleanOutcome,
    Detection,
    FaultOutcome,
    SelftestResult,
)
from .reports import (
    REPORT_JSON,
    REPORT_MARKDOWN,
    outcome_line,
    render_markdown,
    render_text,
    summary_line,
    write_reports,
)
from .schedule import selftest
from .tables import check_fault_table, check_variant_table

__all__ = [
    "ALL_VARIANTS",
    "CLEANUP_WAIT_S",
    "CLEAN_CONFIGS",
    "FAST_MAX_EXAMPLES",
    "REPORT_JSON",
    "REPORT_MARKDOWN",
    "SELFTEST_SCHEMA_VERSION",
    "VARIANT_BASES",
    "CleanConfig",
    "CleanOutcome",
    "Detection",
    "FaultOutcome",
    "Job",
    "SelftestResult",
    "check_fault_table",
    "check_variant_table",
    "fast_selection",
    "outcome_line",
    "render_markdown",
    "render_text",
    "run_job",
    "selftest",
    "summary_line",
    "variant_jobs",
    "write_reports",
]
