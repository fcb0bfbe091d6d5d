"""report.html: one offline file, hostile evidence inert, the numbers there, a browser shows it."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_samples import HOSTILE

from conformance import RunResult
from conformance.report import render_html, write_reports

SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)


def test_evidence_is_escaped_and_only_the_reports_script_runs(mixed_run: RunResult) -> None:
    html = render_html(mixed_run)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    scripts = SCRIPT.findall(html)
    assert len(scripts) == 1  # ours, and nothing from the run
    # The Content-Security-Policy allows exactly that script, by hash.
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html


def test_nothing_is_fetched_from_elsewhere(mixed_run: RunResult) -> None:
    html = render_html(mixed_run)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html


def test_the_numbers_and_sections_are_there(mixed_run: RunResult) -> None:
    html = render_html(mixed_run)
    for text in ("2/5 (40.0%)", "1/1 (100.0%)", "0/1 (0.0%)", "jrc-0001", "http://127.0.0.1:8123"):
        assert text in html
    assert 'data-status="not testable"' in html  # JR-AUTH-001 in the matrix
    assert "expected 201, got 500" in html
    assert "transport: timed out after 30 s" in html
    assert "curl -sS -X POST" in html
    assert "JR-00000042" in html  # left behind
    assert "12.25 s" in html and "243" in html  # stage figures and requests sent


def test_huge_bodies_are_cut(mixed_run: RunResult) -> None:
    html = render_html(mixed_run)
    assert len(html) < 150_000  # one body alone is 200 000 characters
    assert "more chars]" in html


def test_empty_and_setup_error_runs_render(empty_run: RunResult) -> None:
    html = render_html(empty_run)
    assert "The target could not be tested:" in html
    assert "connection refused" in html
    assert "No checks ran" in html


def test_gate_problems_are_shown(pass_run: RunResult) -> None:
    pass_run.gate_problems = ["f.yaml: entry 1 (check '<b>x</b>') matches nothing: stale entry"]
    html = render_html(pass_run)
    assert "Problems in the expected-failures file" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert '<span class="badge s-fail">fail</span>' in html


def _chromium() -> str:
    if os.environ.get("JR_NO_BROWSER") == "1":
        pytest.skip("JR_NO_BROWSER=1: not rendering report.html in a browser")
    for name in ("chromium", "chromium-browser", "/usr/bin/chromium"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "chromium is not installed, so report.html cannot be checked in a browser: "
        "install it (apt-get install chromium) or set JR_NO_BROWSER=1 to skip this test"
    )


def _headless(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.timeout(180)
def test_a_headless_browser_renders_the_report(tmp_path: Path, mixed_run: RunResult) -> None:
    chromium = _chromium()
    page = write_reports(mixed_run, tmp_path / "reports", ["html"])["html"]
    done = _headless(chromium, tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "Journal Runs conformance report" in dom
    for text in ("2/5 (40.0%)", "1/1 (100.0%)", "0/1 (0.0%)"):
        assert text in dom
    # The filter script ran (the CSP allowed it) and counted the matrix rows.
    assert "8 shown" in dom
    # The hostile evidence stayed text: no element came from it.
    assert "<img src=" not in dom
    assert "&lt;script&gt;alert" in dom
