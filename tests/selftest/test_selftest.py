"""The self-test: the fault table is sound, and the suite catches faults without false alarms.

The default run covers a representative fault of every area in the fast mode, plus the clean
default configuration (about a minute). ``-m slow`` runs the whole self-test in the full mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

import conformance
from conformance import _selftest
from conformance._catalogue import AREAS, load_catalogue
from conformance._exceptions import CatalogueError, UsageError
from conformance._resources import schema_path
from conformance._results import Assertion, CheckResult, RunResult, Status, Target
from conformance._selftest import (
    CLEAN_CONFIGS,
    CleanOutcome,
    FaultOutcome,
    SelftestResult,
    check_fault_table,
    fast_selection,
    render_markdown,
    render_text,
    selftest,
    write_reports,
)
from conformance._selftest import jobs as selftest_jobs
from conformance.cli import main
from conformance.reference import FAULTS, VARIANTS, Fault
from conformance.scenarios import load_scenarios

REFERENCE = Path(conformance.__file__).parent / "reference"

#: One fault per area (two for cancel, the subtlest area), all quick to catch.
REPRESENTATIVE = (
    "period-dates-ignored",  # create
    "status-spelling",  # retrieve
    "partial-cancel-becomes-cancelled",  # cancel
    "cancel-synchronous",  # cancel
    "deleted-run-readable",  # delete
    "pages-overlap",  # entries
    "track-id-not-validated",  # headers
    "anonymous-access",  # auth
    "seven-digit-codes",  # errors
    "modern-errors-as-200",  # versions
)


def reference_source() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted(REFERENCE.glob("*.py"))
        if path.name != "_faults.py"
    )


# -- the fault table ------------------------------------------------------------------------------


def test_there_are_at_least_thirty_faults_each_declaring_known_requirements() -> None:
    catalogue = load_catalogue()
    assert len(FAULTS) >= 30
    for fault in FAULTS.values():
        assert fault.breaks, fault.name
        assert set(fault.breaks) <= set(catalogue.requirements), fault.name
        assert fault.description.strip(), fault.name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", fault.name), fault.name
    check_fault_table(catalogue)  # the self-test's own guard agrees


def test_the_faults_cover_every_area_of_the_catalogue() -> None:
    catalogue = load_catalogue()
    areas = {catalogue.requirements[r].area for f in FAULTS.values() for r in f.breaks}
    assert areas == set(AREAS)


def test_every_fault_is_used_at_a_marked_point_of_the_reference() -> None:
    source = reference_source()
    for name in FAULTS:
        assert f'has_fault("{name}")' in source, f"fault {name} is never checked"
        assert re.search(rf"# FAULT [^\n]*\b{re.escape(name)}\b", source), f"{name} unmarked"
    # ... and every point names a declared fault (has_fault raises on a typo, but only when run)
    used = set(re.findall(r'has_fault\("([^"]+)"\)', source))
    assert used == set(FAULTS)


def test_every_fault_has_checks_that_could_catch_it() -> None:
    catalogue = load_catalogue()
    library = load_scenarios(None, catalogue=catalogue)
    for fault in FAULTS.values():
        scenarios, fuzz_checks = fast_selection(fault.breaks, catalogue, scenarios=library)
        assert scenarios or fuzz_checks, f"no check names {fault.breaks} ({fault.name})"


def test_a_fault_naming_an_unknown_requirement_is_a_catalogue_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = {**FAULTS, "typo": Fault("typo", "a fault with a typo", breaks=("JR-CANCEL-999",))}
    monkeypatch.setattr("conformance.reference.FAULTS", bad)
    with pytest.raises(CatalogueError, match=r"typo.*JR-CANCEL-999"):
        check_fault_table(load_catalogue())


def test_the_settings_and_flags_a_fault_carries_are_valid() -> None:
    from conformance._config import load_config
    from conformance.reference import ReferenceSettings

    carrying = [f for f in FAULTS.values() if f.settings or f.flags]
    assert {"earliest-date-ignored", "earliest-date-exclusive"} <= {f.name for f in carrying}
    for fault in carrying:
        ReferenceSettings(**dict(fault.settings), faults=frozenset({fault.name}))
        load_config(flags=dict(fault.flags), env={})


def test_a_fault_runs_with_the_tenant_data_it_needs() -> None:
    """The earliest-date faults show only on a reference with an earliest date, judged by a
    suite that is told it: without them both scenarios would be skipped, and nothing caught."""
    result = selftest(fast=True, faults=["earliest-date-ignored"], run_clean=False)
    (outcome,) = result.faults
    assert outcome.expected, outcome
    assert outcome.catching_checks == ["create-earliest-date-day-before"]


def test_clean_configurations_have_unique_names() -> None:
    names = [c.name for c in CLEAN_CONFIGS]
    assert len(names) == len(set(names)) and "default" in names
    assert set(_selftest.VARIANT_BASES) <= set(names)


def test_each_variant_runs_alone_in_both_styles_and_all_at_once_in_every_configuration() -> None:
    jobs = _selftest.variant_jobs(
        ["fast-lifecycle", "codes-as-numbers"], ["default", "modern-style"], fast=True,
        max_examples=None, seed=0,
    )  # fmt: skip
    assert [(j.name, j.config, j.variants) for j in jobs] == [
        ("fast-lifecycle@earliest-gap", "earliest-gap", ("fast-lifecycle",)),
        ("fast-lifecycle@earliest-gap-modern", "earliest-gap-modern", ("fast-lifecycle",)),
        ("codes-as-numbers@earliest-gap", "earliest-gap", ("codes-as-numbers",)),
        (
            "codes-as-numbers@earliest-gap-modern",
            "earliest-gap-modern",
            ("codes-as-numbers",),
        ),
        ("all-variants@default", "default", ("fast-lifecycle", "codes-as-numbers")),
        ("all-variants@modern-style", "modern-style", ("fast-lifecycle", "codes-as-numbers")),
    ]
    alone = selftest_jobs.Job("variant", "x", True, None, 0, "default", ("codes-as-numbers",))
    assert (
        selftest_jobs._variant_selection(alone)
        == _selftest.fast_selection(["JR-ERRORS-004"], load_catalogue())[0]
        + _selftest.fast_selection(["JR-ERRORS-004"], load_catalogue())[1]
    )
    http = selftest_jobs.Job("variant", "x", True, None, 0, "default", ("chunked-bodies",))
    assert selftest_jobs._variant_selection(http) == []  # no readings: every check


def test_a_false_alarm_on_a_variant_fails_the_self_test() -> None:
    result = SelftestResult(mode="fast", started_at="")
    result.variants = [
        CleanOutcome(
            "fast-lifecycle@default", "", False,
            [_selftest.Detection("cancel-x", "fail", ["JR-CANCEL-004"], "boom")], 9, 1.0,
            config="default", variants=["fast-lifecycle"],
        )
    ]  # fmt: skip
    assert not result.passed and result.false_alarms == 1
    text = render_text(result)
    assert "Variants" in text and "cancel-x [JR-CANCEL-004]: boom" in text
    assert "variant runs 0/1 passed, 1 false alarms" in text
    assert "**false alarm**: `cancel-x` (JR-CANCEL-004)" in render_markdown(result)


# -- scoring -------------------------------------------------------------------------------------


def _result(*checks: CheckResult) -> RunResult:
    return RunResult(
        run_id="jrc-0", tool_version="0", target=Target("x"), started_at="", checks=[*checks]
    )


def _check(check_id: str, status: Status, *blamed: str, named: tuple[str, ...] = ()) -> CheckResult:
    check = CheckResult(id=check_id, title=check_id, kind="scenario", area="cancel")
    check.requirement_ids = named or blamed
    for requirement in blamed:
        check.record(Assertion(f"{requirement} holds", (requirement,), passed=False))
    check.status = status
    return check


def test_only_a_failure_blamed_on_a_declared_requirement_catches_a_fault() -> None:
    breaks = ("JR-CANCEL-009",)
    blamed_elsewhere = _check("other", Status.FAIL, "JR-CANCEL-004")
    errored = _check("crashed", Status.ERROR, named=("JR-CANCEL-009",))
    caught = _check("right", Status.FAIL, "JR-CANCEL-009")
    assert selftest_jobs._catching(_result(blamed_elsewhere, errored), breaks) == []
    assert selftest_jobs._catching(_result(blamed_elsewhere, errored, caught), breaks) == ["right"]
    detections = selftest_jobs._detections(_result(blamed_elsewhere, errored))
    assert [(d.check, d.status, d.requirement_ids) for d in detections] == [
        ("other", "fail", ["JR-CANCEL-004"]),
        ("crashed", "error", ["JR-CANCEL-009"]),
    ]


def test_the_score_needs_every_fault_caught_and_every_clean_configuration_passed() -> None:
    def fault(name: str, expected: bool) -> FaultOutcome:
        return FaultOutcome(name, "", ["JR-CANCEL-009"], expected, expected, [], 1.0)

    result = SelftestResult(mode="fast", started_at="now")
    result.faults = [fault("a", True), fault("b", True), fault("c", False)]
    result.clean = [CleanOutcome("default", "", True, [], 10, 1.0)]
    assert (result.caught, round(result.score, 1), result.passed) == (2, 66.7, False)
    result.faults.pop()
    assert result.passed and result.score == 100.0
    alarm = _selftest.Detection("fuzz.lifecycle", "fail", ["JR-RETRIEVE-003"], "seen: Canceled")
    result.clean.append(CleanOutcome("slow-lifecycle", "", False, [alarm], 10, 1.0))
    assert not result.passed and result.false_alarms == 1
    assert "FAIL: mutation score 2/2 (100.0%)" in render_text(result)
    assert "fuzz.lifecycle" in render_text(result) and "fuzz.lifecycle" in render_markdown(result)


def test_bad_selections_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--fault no-such-fault"):
        selftest(fast=True, faults=["no-such-fault"])
    with pytest.raises(UsageError, match="--clean nowhere"):
        selftest(fast=True, clean=["nowhere"], run_faults=False)
    with pytest.raises(UsageError, match="--variant nope"):
        selftest(fast=True, variants=["nope"], run_faults=False)
    with pytest.raises(UsageError, match="nothing to run"):
        selftest(fast=True, run_faults=False, run_clean=False, run_variants=False)
    with pytest.raises(UsageError, match="--jobs"):
        selftest(fast=True, jobs=0)


# -- against the reference -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_subset() -> Iterator[SelftestResult]:
    # Variants only all at once, in the default configuration: one more run, not 40.
    yield selftest(
        fast=True, faults=REPRESENTATIVE, clean=["default"], variants_alone=False, jobs=2
    )


def test_the_fast_self_test_catches_every_representative_fault(
    fast_subset: SelftestResult,
) -> None:
    # in the table's order, whatever order they were asked for in
    assert [o.fault for o in fast_subset.faults] == [f for f in FAULTS if f in REPRESENTATIVE]
    missed = {o.fault: o.detections or o.note for o in fast_subset.faults if not o.expected}
    assert not missed
    for outcome in fast_subset.faults:
        assert outcome.catching_checks, outcome.fault
        assert outcome.wall_s < 60, outcome  # no fault here should need a polling deadline
    by_fault = {o.fault: o for o in fast_subset.faults}
    # the subtle one: Cancelled although an entry stayed with accounting
    assert (
        "partial-cancel-jr-00000075" in by_fault["partial-cancel-becomes-cancelled"].catching_checks
    )
    assert "retrieve-status-names" in by_fault["status-spelling"].catching_checks


def test_the_clean_reference_raises_no_false_alarm(fast_subset: SelftestResult) -> None:
    (clean,) = fast_subset.clean
    assert clean.passed, [(a.check, a.requirement_ids, a.message) for a in clean.false_alarms]
    assert clean.checks_run > 50  # every scenario and fuzz check ran, not a selection
    assert fast_subset.passed and fast_subset.score == 100.0


def test_every_variant_at_once_raises_no_false_alarm(fast_subset: SelftestResult) -> None:
    (together,) = fast_subset.variants
    assert together.name == "all-variants@default" and together.config == "default"
    assert together.variants == list(VARIANTS)
    assert together.passed, [(a.check, a.requirement_ids, a.message) for a in together.false_alarms]
    assert together.checks_run > 50


def test_the_reports_follow_their_schema(fast_subset: SelftestResult, tmp_path: Path) -> None:
    paths = write_reports(fast_subset, tmp_path / "reports")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    schema = json.loads(schema_path("selftest").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema, format_checker=jsonschema.FormatChecker())
    assert data["score"] == {"caught": 10, "faults": 10, "percent": 100.0, "false_alarms": 0}
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| `status-spelling` | JR-RETRIEVE-003 | yes |" in markdown
    assert "## Clean configurations" in markdown
    assert "## Variants" in markdown and "| `all-variants` | default |" in markdown
    assert data["variants"][0]["variants"] == list(VARIANTS)


def test_the_cli_prints_the_matrix_writes_the_reports_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["selftest", "--fast", "--fault", "seven-digit-codes", "--skip-clean"]
    code = main([*args, "--reports", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "seven-digit-codes" in out and "error-envelope [JR-ERRORS-004]" in out
    assert "PASS: mutation score 1/1 (100.0%)" in out
    assert (tmp_path / "selftest.json").is_file() and (tmp_path / "selftest.md").is_file()


def test_the_cli_exits_1_when_a_fault_goes_uncaught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the library had no check for the fault's requirements: nothing can catch it.
    monkeypatch.setattr(selftest_jobs, "fast_selection", lambda *args, **kwargs: ([], []))
    args = ["selftest", "--fast", "--fault", "seven-digit-codes", "--skip-clean", "--quiet"]
    assert main([*args, "--reports", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL: mutation score 0/1 (0.0%)" in out
    assert "no scenario or fuzz check names JR-ERRORS-004" in out


def test_the_cli_refuses_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selftest", "--fault", "nope", "--skip-clean"]) == 2
    assert "--fault nope: no such name" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(3 * 3600)
def test_the_full_self_test_scores_100_percent_without_false_alarms(tmp_path: Path) -> None:
    result = selftest(jobs=2)
    write_reports(result, tmp_path)
    print(render_text(result))
    assert result.passed, render_text(result)
