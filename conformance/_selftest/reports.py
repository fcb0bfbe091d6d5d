"""The self-test's matrix: a line per outcome, the text table, selftest.json and selftest.md."""

from __future__ import annotations

import json
from pathlib import Path

from .outcomes import CleanOutcome, FaultOutcome, SelftestResult

REPORT_JSON = "selftest.json"
REPORT_MARKDOWN = "selftest.md"


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


#: At most this many checks per fault in the printed and Markdown matrix (all are in the JSON).
SHOWN_CHECKS = 6


def _first(items: list[str]) -> str:
    more = len(items) - SHOWN_CHECKS
    shown = ", ".join(items[:SHOWN_CHECKS])
    return f"{shown}, +{more} more (see {REPORT_JSON})" if more > 0 else shown


def _by_checks(outcome: FaultOutcome) -> str:
    if not outcome.detections:
        return outcome.note or "-"
    return _first([f"{d.check} [{' '.join(d.requirement_ids)}]" for d in outcome.detections])


def outcome_line(outcome: FaultOutcome | CleanOutcome) -> str:
    """One line per finished fault or configuration, for progress output."""
    if isinstance(outcome, CleanOutcome):
        verdict = "clean" if outcome.passed else f"FALSE ALARM x{len(outcome.false_alarms)}"
        names = ", ".join(d.check for d in outcome.false_alarms)
        extra = f": {names}" if names else (f": {outcome.note}" if outcome.note else "")
        kind = "variant" if outcome.variants else "clean"
        return f"  {kind:<7} {outcome.name:<44} {verdict}{extra} ({outcome.wall_s:.1f} s)"
    verdict = "caught" if outcome.expected else ("MISSED" if not outcome.detected else "OFF-TARGET")
    checks = _first(outcome.catching_checks) or _by_checks(outcome)
    return f"  fault  {outcome.fault:<28} {verdict}: {checks} ({outcome.wall_s:.1f} s)"


def render_text(result: SelftestResult) -> str:
    width = max((len(o.fault) for o in result.faults), default=5)
    lines = [f"Self-test ({result.mode} mode)", ""]
    sections = (
        ("Clean configurations (any failure is a false alarm):", result.clean),
        ("Variants: conforming readings (any failure is a false alarm):", result.variants),
    )
    for title, outcomes in sections:
        if not outcomes:
            continue
        lines.append(title)
        name_width = max(16, *(len(o.name) for o in outcomes))
        for clean in outcomes:
            verdict = "pass" if clean.passed else f"FAIL ({len(clean.false_alarms)} false alarms)"
            what = clean.description if not clean.variants else ""
            lines.append(
                f"  {clean.name:<{name_width}} {verdict:<22} {clean.wall_s:7.1f} s  {what}".rstrip()
            )
            if clean.note:
                lines.append(f"      {clean.note}")
            for alarm in clean.false_alarms:
                lines.append(
                    f"      {alarm.check} [{' '.join(alarm.requirement_ids)}]: {alarm.message}"
                )
        lines.append("")
    if result.faults:
        lines.append(
            f"  {'fault':<{width}}  {'breaks':<33} {'detected':<8} {'expected':<8} "
            f"{'wall':>7}  by checks [requirements blamed]"
        )
        for o in result.faults:
            lines.append(
                f"  {o.fault:<{width}}  {' '.join(o.breaks):<33} {_yes(o.detected):<8} "
                f"{_yes(o.expected):<8} {o.wall_s:6.1f}s  {_by_checks(o)}"
            )
        lines.append("")
    lines.append(summary_line(result))
    return "\n".join(lines)


def summary_line(result: SelftestResult) -> str:
    clean_passed = sum(c.passed for c in result.clean)
    variants_passed = sum(c.passed for c in result.variants)
    verdict = "PASS" if result.passed else "FAIL"
    return (
        f"{verdict}: mutation score {result.caught}/{len(result.faults)} ({result.score:.1f}%); "
        f"clean configurations {clean_passed}/{len(result.clean)} passed, "
        f"variant runs {variants_passed}/{len(result.variants)} passed, "
        f"{result.false_alarms} false alarms; {result.mode} mode, {result.wall_s:.1f} s in total"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(outcome: CleanOutcome) -> str:
    if outcome.passed:
        return "pass"
    alarms = ", ".join(f"`{a.check}` ({' '.join(a.requirement_ids)})" for a in outcome.false_alarms)
    return f"**false alarm**: {alarms}" + (f" {outcome.note}" if outcome.note else "")


def _reads(outcome: CleanOutcome) -> str:
    """The requirements a variant run exercises the readings of (a basis for HTTP variants)."""
    from ..reference import VARIANTS

    if len(outcome.variants) != 1:
        return f"{len(outcome.variants)} variants"
    variant = VARIANTS.get(outcome.variants[0])
    if variant is None:
        return "-"
    return " ".join(variant.readings) or variant.basis


def render_markdown(result: SelftestResult) -> str:
    lines = [
        f"# Self-test ({result.mode} mode)",
        "",
        f"**{summary_line(result)}**",
        "",
        f"jr-conformance {result.tool_version}, started {result.started_at}.",
        "",
    ]
    if result.clean:
        lines += [
            "## Clean configurations",
            "",
            "| configuration | what | result | checks | wall (s) |",
            "|---|---|---|---:|---:|",
        ]
        for c in result.clean:
            lines.append(
                f"| {c.name} | {_md(c.description)} | {_md(_verdict(c))} | {c.checks_run} | "
                f"{c.wall_s:.1f} |"
            )
        lines.append("")
    if result.variants:
        lines += [
            "## Variants",
            "",
            "Conforming alternative readings of the catalogue's decisions: each alone, then all "
            "at once. Any failure is a false alarm.",
            "",
            "| variant | configuration | reads | result | checks | wall (s) |",
            "|---|---|---|---|---:|---:|",
        ]
        for c in result.variants:
            lines.append(
                f"| `{c.name.partition('@')[0]}` | {c.config} | {_md(_reads(c))} | "
                f"{_md(_verdict(c))} | {c.checks_run} | {c.wall_s:.1f} |"
            )
        lines.append("")
    if result.faults:
        lines += [
            "## Faults",
            "",
            "| fault | breaks | detected | by checks [requirements blamed] | expected among "
            "them | wall (s) |",
            "|---|---|---|---|---|---:|",
        ]
        for o in result.faults:
            checks = _first(
                [f"`{d.check}` [{' '.join(d.requirement_ids)}]" for d in o.detections]
            ) or _md(o.note or "-")
            lines.append(
                f"| `{o.fault}` | {' '.join(o.breaks)} | {_yes(o.detected)} | {checks} | "
                f"{_yes(o.expected)} | {o.wall_s:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_reports(result: SelftestResult, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / REPORT_JSON
    json_path.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    md_path = folder / REPORT_MARKDOWN
    md_path.write_text(render_markdown(result), encoding="utf-8")
    return {"json": json_path, "markdown": md_path}
