"""Running the reference: ``ReferenceServer`` (a context manager serving from a background
thread, or a process of its own) and ``serve`` (the ``jr-conformance serve`` command, in the
foreground until a signal).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from .._exceptions import SetupError
from .._processes import fork_context
from ._app import create_app
from ._settings import ReferenceSettings

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class ReferenceServer:
    """The reference server on 127.0.0.1 (or ``settings.host``), served by uvicorn in a thread.

    >>> with ReferenceServer(ReferenceSettings(delay=0)) as server:
    ...     httpx.get(server.url + "/v1/journal-runs/JR-00000001")

    Leaving the ``with`` block stops the server, joins its thread and closes its socket.

    With ``own_process`` that thread runs in a forked process of its own, where forking is safe
    (Linux, and no other thread in the caller yet; elsewhere it is a thread of the caller's, as
    without). The suite is CPU-bound against the embedded reference: in a process of its own the
    server's work does not wait for the suite's interpreter lock, and a second core does it.
    """

    def __init__(
        self,
        settings: ReferenceSettings | None = None,
        *,
        own_process: bool = False,
        **changes: Any,
    ) -> None:
        base = settings or ReferenceSettings()
        self.settings = dataclasses.replace(base, **changes) if changes else base
        self._own_process = own_process
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._child: _Child | None = None
        self._socket: socket.socket | None = None
        self._port = 0

    @property
    def running(self) -> bool:
        return self._server is not None or self._child is not None

    @property
    def in_own_process(self) -> bool:
        """Whether the running server serves from a process of its own."""
        return self._child is not None

    @property
    def pid(self) -> int | None:
        """The process the server serves from (this one, unless ``in_own_process``)."""
        return self._child.pid if self._child is not None else os.getpid()

    @property
    def url(self) -> str:
        if not self.running:
            raise RuntimeError("the reference server is not running")
        host = self.settings.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self._port}"

    def mint_token(self, client_id: str = "jr-conformance") -> str:
        """A bearer token for the tenant ``client_id`` (each client id is a tenant), from this
        server's ``POST /oauth/token``: for harnesses that drive the server without the suite's
        tenants (benchmarks, tests)."""
        import httpx

        response = httpx.post(
            f"{self.url}/oauth/token",
            data={
                "client_id": client_id,
                "client_secret": self.settings.client_secret,
                "grant_type": "client_credentials",
            },
            timeout=10.0,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def start(self) -> None:
        if self.running:
            raise RuntimeError("the reference server is already running")
        context = fork_context() if self._own_process else None
        if context is not None:
            sock = _listen(self.settings)
            self._port = sock.getsockname()[1]
            try:
                self._child = _Child(context, self.settings, sock)
            finally:
                # The child has its own copy. Without the parent's, a child that is gone refuses
                # connections instead of leaving them queued until a timeout.
                sock.close()
            return
        app = create_app(self.settings)  # first: a bad database fails before a port is taken
        self._serve(app, _listen(self.settings))

    def _serve(self, app: Any, sock: socket.socket) -> None:
        """Serve ``app`` on ``sock`` from a thread of this process; return once it is up."""
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            # Embedded, the server shares the user's terminal: malformed requests sent on purpose
            # (fuzzing) must not print uvicorn warnings there; the suite reports what matters.
            log_level="error",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._socket = sock
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="reference-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SetupError("the reference server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(_STOP_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> ReferenceServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _listen(settings: ReferenceSettings) -> socket.socket:
    """A listening socket on the settings' host and port."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this. asyncio sets it only on sockets created with
        # proto=IPPROTO_TCP, so without it every keep-alive answer waits ~40 ms (Nagle
        # against the client's delayed ACK).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((settings.host, settings.port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        where = f"{settings.host}:{settings.port}"
        raise SetupError(f"cannot listen on {where}: {exc.strerror}") from None
    return sock


class _Child:
    """The reference served from a forked process: it builds its app after the fork (a database
    connection is never shared across one), serves on the parent's listening socket, says over a
    pipe when it is up (or why it could not start), and stops when the parent says so or is gone.
    """

    def __init__(
        self, context: ForkContext, settings: ReferenceSettings, sock: socket.socket
    ) -> None:
        self._pipe, child_end = context.Pipe()
        # daemon: should the parent die without stopping it, multiprocessing ends it at exit.
        self._process = context.Process(
            target=_child_main,
            args=(settings, sock, child_end),
            name="reference-server",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        answer: object = SetupError("the reference server did not start in time")
        try:
            if self._pipe.poll(_START_TIMEOUT):
                answer = self._pipe.recv()
        except EOFError:
            answer = SetupError("the reference server did not start")
        if answer != _READY:
            self.stop()
            # The thread's error (a bad database is a ConfigError), raised here as there.
            raise answer if isinstance(answer, Exception) else SetupError(str(answer))

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # a child already gone
            self._pipe.send(_STOP)
        self._process.join(_STOP_TIMEOUT)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(_STOP_TIMEOUT)
        self._pipe.close()


_READY = "ready"
_STOP = "stop"


def _child_main(settings: ReferenceSettings, sock: socket.socket, pipe: Connection) -> None:
    # Ctrl-C reaches the whole process group: the parent decides when the server stops, after
    # the run's cleanup, which needs the server.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server = ReferenceServer(settings)
    try:
        server._serve(create_app(settings), sock)
    except Exception as exc:  # any reason it cannot start is the parent's error to raise
        pipe.send(exc)
        return
    pipe.send(_READY)
    try:
        pipe.recv()  # the parent's stop, or EOF when the parent is gone
    except EOFError:
        pass
    finally:
        server.stop()
        os._exit(0)  # the parent's atexit handlers and buffered output are not the child's


def serve(settings: ReferenceSettings, announce: Any = print) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop cleanly (the ``serve`` command)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ReferenceServer(settings) as server:
            announce(f"Reference server listening on {server.url} (Ctrl-C to stop)")
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
