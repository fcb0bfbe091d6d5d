"""Running the reference: the ReferenceServer context manager, persistence across restarts, the
ASGI app without a socket, and the ``serve`` command."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from _wait import wait_until
from reference_support import NOV_2014, Tenant, fetch_token

from conformance import ConfigError, SetupError
from conformance.cli import main
from conformance.reference import ReferenceServer, ReferenceSettings, create_app


def test_server_starts_on_a_free_port_and_leaks_nothing() -> None:
    threads_before = set(threading.enumerate())
    with ReferenceServer() as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        port = int(server.url.rsplit(":", 1)[1])
        assert httpx.get(server.url + "/v1/journal-runs/JR-00000001").status_code == 401
    assert set(threading.enumerate()) <= threads_before
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/")
    with pytest.raises(RuntimeError):
        _ = server.url


def test_two_servers_side_by_side_and_keyword_settings() -> None:
    with ReferenceServer(delay=0.5) as slow, ReferenceServer() as fast:
        assert slow.url != fast.url
        assert slow.settings.delay == 0.5 and fast.settings.delay == 0


def test_a_busy_port_is_a_setup_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SetupError, match="cannot listen"):
            ReferenceServer(port=port).start()


@pytest.mark.parametrize(
    "changes",
    [
        {"error_style": "fancy"},
        {"delay": -1},
        {"delay": float("nan")},
        {"rate_limit": 0},
        {"port": 70000},
        {"tokens": ("",)},
        {"client_secret": ""},
    ],
)
def test_bad_settings_are_config_errors(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ReferenceSettings(**changes)  # type: ignore[arg-type]


def test_a_bad_database_is_a_config_error(tmp_path: Path) -> None:
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database")
    for path in (not_sqlite, tmp_path / "missing" / "x.sqlite"):
        with pytest.raises(ConfigError, match=r"cannot use .* as the reference's database"):
            ReferenceServer(db_path=str(path)).start()


def test_secrets_stay_out_of_repr() -> None:
    text = repr(ReferenceSettings(client_secret="hush-1", tokens=("hush-2",)))
    assert "hush" not in text


def test_state_survives_a_restart_and_a_cancel_resumes(tmp_path: Path) -> None:
    db = str(tmp_path / "reference.sqlite")
    with ReferenceServer(db_path=db) as first:
        tenant = Tenant(first.url, client_id="persistent-client")
        number = tenant.completed_run()
        cancel = tenant.http.put(
            f"/v1/journal-runs/{number}/cancel", headers={"X-Reference-Hold-Cancel": "1"}
        )
        assert cancel.json()["success"] is True
        assert tenant.run(number)["status"] == "CancelInprogress"
        tenant.close()
    # the server stopped mid-cancel; a new one on the same file finishes it
    with ReferenceServer(db_path=db) as second:
        again = Tenant(second.url, client_id="persistent-client", token=tenant.token)
        try:
            run = again.wait(number, "Cancelled")
            assert run["totalJournalEntryCount"] == 10
            assert {e["status"] for e in again.entries(number)} == {"Cancelled"}
            assert again.create_run() == "JR-00000002"  # counters survive too
        finally:
            again.close()


def test_idempotent_answers_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "reference.sqlite")
    key = {"Idempotency-Key": "persisted"}
    with ReferenceServer(db_path=db) as first:
        token = fetch_token(first.url, "idem-client")
        auth = {"Authorization": f"Bearer {token}", **key}
        original = httpx.post(f"{first.url}/v1/journal-runs", json=NOV_2014, headers=auth)
    with ReferenceServer(db_path=db) as second:
        replay = httpx.post(f"{second.url}/v1/journal-runs", json=NOV_2014, headers=auth)
    assert replay.content == original.content


def test_asgi_app_without_lifespan_advances_lazily() -> None:
    app = create_app(ReferenceSettings(tokens=("t",)))

    async def flow() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ref") as client:
            client.headers["Authorization"] = "Bearer t"
            created = await client.post("/v1/journal-runs", json=NOV_2014)
            number = created.json()["journalRunNumber"]
            run = (await client.get(f"/v1/journal-runs/{number}")).json()
            await client.put(f"/v1/journal-runs/{number}/cancel")
            after = (await client.get(f"/v1/journal-runs/{number}")).json()
            return [run["status"], after["status"]]

    assert asyncio.run(flow()) == ["Completed", "Cancelled"]


def test_cli_rejects_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--fault", "nope"]) == 2
    error = capsys.readouterr().err
    assert "unknown fault 'nope'" in error and "seven-digit-codes" in error


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_cli_serve_prints_the_url_and_stops_cleanly(stop: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "serve", "--token", "cli-token", "--delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        response = httpx.get(
            f"{url}/v1/journal-runs/JR-00000001", headers={"Authorization": "Bearer cli-token"}
        )
        assert response.json()["reasons"][0]["code"] == "50000040"
        process.send_signal(stop)
        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    # the port is free again

    def refused() -> bool:
        try:
            httpx.get(url, timeout=0.5)
        except httpx.ConnectError:
            return True
        return False

    wait_until(refused, 5, 0.05, f"{url} still answers")
