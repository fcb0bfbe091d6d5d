"""A Journal Runs server that misbehaves in one way at a time, for whole-suite robustness tests.

:class:`HostileServer` sits in front of a real (reference) server and forwards what it does not
sabotage, so the preflight passes and the rest of a run carries on; the requests ``affects``
picks (by default everything under ``/v1/journal-entries``) get the misbehaviour named by
``mode`` instead. With ``affects=everything`` even the preflight fails. ``mode="pass"`` only
forwards, recording what it saw (methods, paths, the Authorization header of every request).

It counts body bytes it sent (``bytes_served``) and times every request (``received``), binds
127.0.0.1 on a free port, and stops every handler thread on :meth:`stop`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from _servers import Received, _Conn, _gzip_bomb_chunks, _read_request, _TCPServer

MODES = (
    "silent",  # never answers
    "trickle",  # a byte every 0.2 s, far slower than the timeout
    "close-mid-body",
    "invalid-json",
    "wrong-content-type",  # the right JSON, labelled text/plain
    "huge",  # a multi-gigabyte body, no length announced
    "gzip-bomb",  # 1 GiB of zeros in about 1 MB of gzip
    "redirect-loop",
    "429",  # Too Many Requests with Retry-After
    "503-burst",  # a burst of 503s, then service again
    "html-error",  # a 502 with an HTML error page
)
RETRY_AFTER_S = 0.5
BURST = 4


@dataclass
class Seen:
    method: str
    path: str
    authorization: str
    at: float  # time.monotonic() when the request was read
    sabotaged: bool


def entries(method: str, path: str) -> bool:
    return path.startswith("/v1/journal-entries")


def everything(method: str, path: str) -> bool:
    return True


class HostileServer:
    def __init__(
        self,
        upstream: str,
        mode: str = "pass",
        affects: Callable[[str, str], bool] = entries,
        rate_limit: tuple[int, float] | None = None,
        burst: int = BURST,
    ) -> None:
        assert mode == "pass" or mode in MODES, mode
        self.upstream = upstream
        self.mode = mode
        self.affects = affects
        #: (remaining, reset_s): every forwarded answer says RateLimit-Remaining/Reset this low.
        self.rate_limit = rate_limit
        #: How many 503s the ``503-burst`` mode answers before service comes back.
        self.burst = burst
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._bytes = 0
        self._sabotaged = 0
        self.seen: list[Seen] = []
        self._client = httpx.Client(base_url=upstream, timeout=30)
        server = self

        class Handler:  # socketserver wants a class; one instance per connection
            def __init__(self, request: socket.socket, address: Any, owner: Any) -> None:
                server._handle(request)

        self._server = _TCPServer(("127.0.0.1", 0), Handler)  # type: ignore[arg-type]
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._client.close()

    @property
    def bytes_served(self) -> int:
        with self._lock:
            return self._bytes

    def _served(self, count: int) -> None:
        with self._lock:
            self._bytes += count

    # -- serving -----------------------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            received = _read_request(sock)
            if received is None:
                return
            sabotage = self.mode != "pass" and self.affects(received.method, received.path)
            with self._lock:
                if sabotage and self.mode == "503-burst":
                    self._sabotaged += 1
                    sabotage = self._sabotaged <= self.burst
                self.seen.append(
                    Seen(
                        received.method,
                        received.path,
                        received.headers.get("authorization", ""),
                        time.monotonic(),
                        sabotage,
                    )
                )
            conn = _Conn(self, sock)  # type: ignore[arg-type]
            if sabotage:
                self._misbehave(conn, received)
            else:
                self._forward(conn, received)
        except OSError:
            pass  # the client gave up: the point of several modes

    def _forward(self, conn: _Conn, received: Received, content_type: str | None = None) -> None:
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in received.headers.items() if k not in skip}
        try:
            answer = self._client.request(
                received.method,
                received.path,
                params=received.query,
                headers=headers,
                content=received.body or None,
            )
        except httpx.HTTPError as exc:  # a request httpx will not send (a fuzzer's header)
            conn.respond(400, f"proxy: {exc}".encode(), {"Content-Type": "text/plain"})
            return
        drop = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        out = {k: v for k, v in answer.headers.items() if k.lower() not in drop}
        if content_type is not None:
            out["content-type"] = content_type
        if self.rate_limit is not None:
            remaining, reset = self.rate_limit
            out = {k: v for k, v in out.items() if not k.lower().startswith("ratelimit-")}
            out.update(
                {
                    "RateLimit-Limit": "100",
                    "RateLimit-Remaining": str(remaining),
                    "RateLimit-Reset": str(reset),
                }
            )
        conn.respond(answer.status_code, answer.content, out)

    def _misbehave(self, conn: _Conn, received: Received) -> None:
        mode = self.mode
        if mode == "silent":
            self.stopping.wait(60)
        elif mode == "trickle":
            conn.head(200, {"Content-Length": "100000", "Content-Type": "application/json"})
            for _ in range(100000):
                if self.stopping.wait(0.2):
                    return
                conn.body(b" ")
        elif mode == "close-mid-body":
            conn.head(200, {"Content-Length": "1000", "Content-Type": "application/json"})
            conn.body(b'{"success": true, "status": "Comp')
            conn.sock.shutdown(socket.SHUT_RDWR)
        elif mode == "invalid-json":
            conn.respond(200, b'{"success": true, "number": "JE-0', _JSON)
        elif mode == "wrong-content-type":
            self._forward(conn, received, content_type="text/plain")
        elif mode == "huge":
            conn.head(200, {"Content-Type": "application/json"})
            block = b" " * 65536
            for _ in range(5 * 2**30 // len(block)):  # 5 GiB, if anyone read it all
                if self.stopping.is_set():
                    return
                conn.body(block)
        elif mode == "gzip-bomb":
            conn.head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
            for chunk in _gzip_bomb_chunks():
                if self.stopping.is_set():
                    return
                conn.body(chunk)
        elif mode == "redirect-loop":
            conn.respond(302, b"", {"Location": received.path})
        elif mode == "429":
            body = b'{"success": false, "reasons": [{"code": 90000070, "message": "slow down"}]}'
            conn.respond(429, body, {**_JSON, "Retry-After": str(RETRY_AFTER_S)})
        elif mode in ("503-burst", "html-error"):
            status = 503 if mode == "503-burst" else 502
            page = b"<html><head><title>Bad Gateway</title></head><body><h1>Oops</h1></body></html>"
            conn.respond(status, page, {"Content-Type": "text/html; charset=utf-8"})


_JSON = {"Content-Type": "application/json"}
