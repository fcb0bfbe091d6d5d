"""The reference in a process of its own (how the main job starts it): it serves as the thread
does, ignores a Ctrl-C sent to the whole process group (the run stops it after its cleanup),
raises the thread's error when it cannot start, and is gone once stopped."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from conformance import ConfigError, _processes
from conformance.reference import ReferenceServer

PROBE = "/v1/journal-runs/JR-00000001"


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest may run threads of its own; the forked child of these tests only serves.
    monkeypatch.setattr(_processes, "forks_safely", lambda: True)


def _ignores(pid: int, signum: int) -> bool:
    """Whether process ``pid`` ignores ``signum`` (its SigIgn mask in /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(mask, 16) & (1 << (signum - 1)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_serves_from_a_process_of_its_own_and_is_gone_once_stopped(forking: None) -> None:
    with ReferenceServer(own_process=True) as server:
        assert server.in_own_process
        pid = server.pid
        assert pid is not None and pid != os.getpid()
        url = server.url
        assert httpx.get(url + PROBE).status_code == 401
    assert not server.in_own_process
    assert not _alive(pid)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + PROBE)


def test_ctrl_c_to_the_process_group_leaves_it_serving(forking: None) -> None:
    with ReferenceServer(own_process=True) as server:
        assert server.pid is not None
        assert _ignores(server.pid, signal.SIGINT)
        os.kill(server.pid, signal.SIGINT)
        assert httpx.get(server.url + PROBE).status_code == 401


def test_a_bad_database_is_the_threads_config_error(forking: None, tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "x.sqlite"
    with pytest.raises(ConfigError, match=r"cannot use .* as the reference's database"):
        ReferenceServer(db_path=str(missing), own_process=True).start()


def test_where_a_fork_is_not_sound_it_is_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_processes, "forks_safely", lambda: False)
    with ReferenceServer(own_process=True) as server:
        assert not server.in_own_process and server.pid == os.getpid()
        assert httpx.get(server.url + PROBE).status_code == 401
