"""No token, client secret or fetched access token appears in anything the suite writes or
prints: reports, ledger, progress, error messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _hostile import HostileServer

from conformance.reference import ReferenceServer, ReferenceSettings

SECRET = "TOKEN-ZEBRA-7f3a9c1e5b2d4f6a8c0e"
SECRET2 = "CLIENTSECRET-QUAGGA-1b3d5f7a9c2e4f6a"
CLIENT_ID = "secret-test-client"
#: A write scenario, an auth scenario (sends bad credentials), and the fuzz stage.
SELECTION = ["create-with-period", "bad-credentials", "fuzz.error-envelope"]


def _run(url: str, reports: Path, env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "conformance", "run", "--base-url", url, "--jsonl"]
    command += ["--reports", str(reports), "--max-examples", "1", "--select", *SELECTION]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JR_")}
    done = subprocess.run(
        command, capture_output=True, text=True, env={**clean, **env}, timeout=300
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.stdout + done.stderr


def _everything_written(folder: Path) -> dict[str, str]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert {"results.json", "report.html", "junit.xml", "summary.md", "ledger.jsonl"} <= {
        path.name for path in files
    }
    return {str(path): path.read_text(errors="replace") for path in files}


def _assert_nowhere(secrets: set[str], printed: str, written: dict[str, str]) -> None:
    for secret in secrets:
        assert secret not in printed, secret
        for name, text in written.items():
            assert secret not in text, (secret, name)


def test_a_static_token_never_shows(tmp_path: Path) -> None:
    with (
        ReferenceServer(ReferenceSettings(tokens=(SECRET,))) as server,
        HostileServer(server.url) as proxy,
    ):
        printed = _run(proxy.url, tmp_path / "reports", {"JR_TOKEN": SECRET})
        sent = {seen.authorization for seen in proxy.seen}
    assert f"Bearer {SECRET}" in sent  # it was used
    _assert_nowhere({SECRET}, printed, _everything_written(tmp_path))


def test_client_secrets_and_fetched_tokens_never_show(tmp_path: Path) -> None:
    with (
        ReferenceServer(ReferenceSettings(client_secret=SECRET2)) as server,
        HostileServer(server.url) as proxy,
    ):
        env = {"JR_CLIENT_ID": CLIENT_ID, "JR_CLIENT_SECRET": SECRET2}
        printed = _run(proxy.url, tmp_path / "reports", env)
        fetched = {
            seen.authorization.removeprefix("Bearer ")
            for seen in proxy.seen
            if seen.authorization.startswith("Bearer ")
        }
    assert fetched and all(len(token) >= 16 for token in fetched)
    _assert_nowhere({SECRET2, *fetched}, printed, _everything_written(tmp_path))


def test_a_refused_client_secret_is_not_in_the_error(tmp_path: Path) -> None:
    with ReferenceServer(ReferenceSettings(client_secret=SECRET2)) as server:
        command = [sys.executable, "-m", "conformance", "run", "--base-url", server.url]
        command += ["--reports", str(tmp_path / "reports"), "--select", "create-with-period"]
        env = {"JR_CLIENT_ID": CLIENT_ID, "JR_CLIENT_SECRET": SECRET2 + "-wrong"}
        clean = {k: v for k, v in os.environ.items() if not k.startswith("JR_")}
        done = subprocess.run(
            command, capture_output=True, text=True, env={**clean, **env}, timeout=120
        )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "setup error" in done.stdout
    _assert_nowhere(
        {SECRET2},
        done.stdout + done.stderr,
        {p.name: p.read_text() for p in (tmp_path / "reports").iterdir()},
    )
