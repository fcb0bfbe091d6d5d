"""jr-conformance matrix: implementations side by side from their results.json files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_samples import HOSTILE, sample_mixed_run, sample_pass_run

from conformance import RunResult
from conformance.cli import main
from conformance.report import write_reports
from conformance.report._matrix import build_matrix, default_name, render_matrix_markdown


def _results(folder: Path, result: RunResult, formats: tuple[str, ...] = ("json", "html")) -> Path:
    write_reports(result, folder, formats)
    return folder / "results.json"


@pytest.fixture
def two(tmp_path: Path) -> tuple[Path, Path]:
    other = sample_pass_run()
    other.target.base_url = "https://rest.sandbox.example.com/api/"
    other.target.implementation = "external"
    return _results(tmp_path / "A", sample_mixed_run()), _results(tmp_path / "B", other)


def test_the_cli_writes_an_html_page_and_a_markdown_table(
    tmp_path: Path, two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m"
    assert main(["matrix", str(two[0]), str(two[1]), "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"matrix (html): {out / 'matrix.html'}",
        f"matrix (markdown): {out / 'matrix.md'}",
    ]
    md = (out / "matrix.md").read_text()
    assert "| Requirement | Level | reference | rest.sandbox.example.com/api |" in md
    # The mixed run fails JR-CREATE-001; the other passes it. Each links to its report's row.
    assert (
        "| JR-CREATE-001 | MUST | [fail](../A/report.html#req-JR-CREATE-001) "
        "| [pass](../B/report.html#req-JR-CREATE-001) |"
    ) in md
    assert "| JR-AUTH-001 | MUST | [not testable](" in md
    assert "| MUST | 2/5 (40.0%) | 5/5 (100.0%) |" in md
    html = (out / "matrix.html").read_text()
    assert 'href="../A/report.html#req-JR-CREATE-001">fail</a>' in html
    assert "script-src" not in html and "<script" not in html  # no script at all
    # The anchor the link points at exists in the report.
    assert 'id="req-JR-CREATE-001"' in (two[0].parent / "report.html").read_text()


def test_names_and_the_default_folder(
    tmp_path: Path, two: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["matrix", str(two[0]), str(two[0]), "--name", HOSTILE, "--name", "x"]) == 0
    html = (tmp_path / "reports" / "matrix" / "matrix.html").read_text()
    assert HOSTILE not in html and "&lt;script&gt;" in html
    md = (tmp_path / "reports" / "matrix" / "matrix.md").read_text()
    assert "<script>" not in md
    # Same target twice, no names: told apart.
    matrix = build_matrix([two[0], two[0]])
    assert [i.name for i in matrix.implementations] == ["reference", "reference #2"]


def test_default_name_is_the_host_and_path() -> None:
    run = sample_pass_run()
    run.target.implementation, run.target.base_url = "external", "http://h.example:8080/"
    assert default_name(run) == "h.example:8080"


def test_a_requirement_one_run_lacks_is_absent_and_no_report_means_no_link(
    tmp_path: Path,
) -> None:
    old = sample_pass_run()
    old.requirements = [r for r in old.requirements if r.id != "JR-DELETE-001"]
    a = _results(tmp_path / "A", sample_pass_run(), ("json",))
    b = _results(tmp_path / "B", old, ("json",))
    md = render_matrix_markdown(build_matrix([a, b], ["new", "old"], tmp_path / "m"))
    assert "| JR-DELETE-001 | MUST | pass | absent |" in md


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "invalid JSON"),
        (json.dumps({"schema_version": "1.1", "run_id": 3}), "not a valid results.json"),
    ],
)
def test_a_bad_results_file_is_one_line_and_exit_2(
    tmp_path: Path,
    two: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert main(["matrix", str(two[0]), str(bad), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_one_name_per_file_or_none(
    tmp_path: Path, two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["matrix", str(two[0]), str(two[1]), "--name", "only-one"]) == 2
    assert "1 --name for 2 results files" in capsys.readouterr().err


def test_an_unwritable_out_folder_is_one_line_and_exit_2(
    tmp_path: Path, two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["matrix", str(two[0]), "--out", str(blocker / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the matrix to" in err
