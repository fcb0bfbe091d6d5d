"""Running the reference: ``ReferenceServer`` (a context manager serving from a background
thread) and ``serve`` (the ``jr-conformance serve`` command, in the foreground until a signal).
"""

from __future__ import annotations

import dataclasses
import signal
import socket
import threading
import time
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from .._exceptions import SetupError
from ._app import create_app
from ._settings import ReferenceSettings

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class ReferenceServer:
    """The reference server on 127.0.0.1 (or ``settings.host``), served by uvicorn in a thread.

    >>> with ReferenceServer(ReferenceSettings(delay=0)) as server:
    ...     httpx.get(server.url + "/v1/journal-runs/JR-00000001")

    Leaving the ``with`` block stops the server, joins its thread and closes its socket.
    """

    def __init__(self, settings: ReferenceSettings | None = None, **changes: Any) -> None:
        base = settings or ReferenceSettings()
        self.settings = dataclasses.replace(base, **changes) if changes else base
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port = 0

    @property
    def url(self) -> str:
        if self._server is None:
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
        if self._server is not None:
            raise RuntimeError("the reference server is already running")
        app = create_app(self.settings)  # first: a bad database fails before a port is taken
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted sockets inherit this. asyncio sets it only on sockets created with
            # proto=IPPROTO_TCP, so without it every keep-alive answer waits ~40 ms (Nagle
            # against the client's delayed ACK).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.settings.host, self.settings.port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise SetupError(
                f"cannot listen on {self.settings.host}:{self.settings.port}: {exc.strerror}"
            ) from None
        self._socket = sock
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
