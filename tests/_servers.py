"""Tiny, deliberately misbehaving HTTP servers for the suite's own tests.

:class:`MisbehavingServer` speaks just enough HTTP/1.1 over raw sockets to misbehave on purpose:
the path picks the behaviour (see ``_ROUTES``). It binds 127.0.0.1 on a free port, serves each
connection in a thread, answers one request per connection, counts every body byte it sends, and
stops (every handler thread included) when the fixture calls :meth:`MisbehavingServer.stop`.

``url`` names the host ``127.0.0.1`` and ``other_url`` names ``localhost``: the same server under a
different host name, for cross-host redirects.
"""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import ssl
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: The client id and secret the token endpoint accepts.
CLIENT_ID = "client-0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "s3cr3t-Client-Secret-value-0042"


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class _State:
    bytes_served: int = 0
    requests: list[Received] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = True  # server_close() joins the handler threads


class MisbehavingServer:
    def __init__(
        self, token_lifetime_s: int = 3600, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.token_lifetime_s = token_lifetime_s
        self._ssl_context = ssl_context
        self.scheme = "https" if ssl_context else "http"
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._state = _State()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._handle(self.request)

        self._server = _TCPServer(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> MisbehavingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes every handler that waits or streams
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def other_url(self) -> str:
        return f"{self.scheme}://localhost:{self.port}"

    # -- what happened ---------------------------------------------------------------------

    @property
    def bytes_served(self) -> int:
        """Response body bytes written to sockets so far (headers excluded)."""
        with self._lock:
            return self._state.bytes_served

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._state.requests)

    def hits(self, path: str) -> int:
        with self._lock:
            return self._state.hits.get(path, 0)

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid (the next use answers 401)."""
        with self._lock:
            self._state.valid_tokens.clear()

    # -- serving ---------------------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            if self._ssl_context is not None:
                sock = self._ssl_context.wrap_socket(sock, server_side=True)
            received = _read_request(sock)
            if received is None:
                return
            with self._lock:
                self._state.requests.append(received)
                self._state.hits[received.path] = self._state.hits.get(received.path, 0) + 1
            route = _ROUTES.get(received.path, _not_found)
            route(self, _Conn(self, sock), received)
        except OSError:
            pass  # the client went away: that is the point of several routes

    def _served(self, count: int) -> None:
        with self._lock:
            self._state.bytes_served += count

    def _hit_count(self, key: str) -> int:
        with self._lock:
            return self._state.hits.get(key, 0)


class _Conn:
    def __init__(self, server: MisbehavingServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock

    def head(self, status: int, headers: dict[str, str] | None = None) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def body(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.server._served(len(data))

    def respond(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.head(status, {"Content-Length": str(len(data)), **(headers or {})})
        self.body(data)

    def json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self.respond(
            status,
            json.dumps(value).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


def _read_request(sock: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    parts = urlsplit(target)
    return Received(method, parts.path, parse_qs(parts.query), headers, body)


def _param(received: Received, name: str, default: str) -> str:
    return received.query.get(name, [default])[0]


# -- routes ------------------------------------------------------------------------------------


def _ok(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.json(200, {"ok": True})


def _echo(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """The request as received: method, path, query, headers and body."""
    conn.json(
        200,
        {
            "method": received.method,
            "path": received.path,
            "query": received.query,
            "headers": received.headers,
            "body": received.body.decode("latin-1"),
        },
    )


def _slow(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """No answer for ``?s=`` seconds (default 30)."""
    if not server.stopping.wait(float(_param(received, "s", "30"))):
        conn.json(200, {"slow": True})


def _trickle(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """Announces 1000 bytes, then sends one every 0.2 s."""
    conn.head(200, {"Content-Length": "1000", "Content-Type": "text/plain"})
    for _ in range(1000):
        if server.stopping.wait(0.2):
            return
        conn.body(b"x")


def _trickle_headers(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """Sends its status line and headers one byte every 0.2 s (a read timeout never fires)."""
    head = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 1000 + b"\r\n\r\n"
    for byte in head:
        if server.stopping.wait(0.2):
            return
        conn.sock.sendall(bytes([byte]))


def _close_mid_body(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.head(200, {"Content-Length": "1000", "Content-Type": "application/json"})
    conn.body(b'{"partial": "')
    conn.sock.shutdown(socket.SHUT_RDWR)


def _invalid_json(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.respond(200, b'{"success": true, "oops', {"Content-Type": "application/json"})


def _huge(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """500 MB of zeros, produced lazily, delimited by closing the connection (no length)."""
    conn.head(200, {"Content-Type": "application/octet-stream"})
    block = b"\0" * 65536
    for _ in range(500 * 2**20 // len(block)):
        if server.stopping.is_set():
            return
        conn.body(block)


def _huge_declared(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """Says ``Content-Length: 500000000`` up front, then streams."""
    conn.head(200, {"Content-Length": "500000000", "Content-Type": "application/octet-stream"})
    block = b"\0" * 65536
    for _ in range(500_000_000 // len(block)):
        if server.stopping.is_set():
            return
        conn.body(block)


def _gzip_bomb_chunks(total: int = 2**30) -> Iterator[bytes]:
    """A gzip stream that inflates to ``total`` zero bytes (about 1 MB on the wire for 1 GiB),
    compressed on the fly so that nothing big is ever held in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * 2**20
    for _ in range(total // len(block)):
        out = compressor.compress(block)
        if out:
            yield out
    yield compressor.flush()


def _gzip_bomb(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    for chunk in _gzip_bomb_chunks():
        if server.stopping.is_set():
            return
        conn.body(chunk)


def _gzip_ok(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    data = json.dumps({"compressed": True, "padding": "z" * 5000}).encode()
    conn.respond(
        200,
        gzip.compress(data),
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


def _deflate_ok(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    data = json.dumps({"deflated": True}).encode()
    conn.respond(
        200,
        zlib.compress(data),
        {"Content-Type": "application/json", "Content-Encoding": "deflate"},
    )


def _invalid_gzip(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.respond(
        200,
        b"this is not gzip at all",
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


def _redirect_loop(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.respond(302, b"", {"Location": "/redirect-loop"})


def _redirect_same(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.respond(307, b"", {"Location": "/echo"})


def _redirect_other_host(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.respond(302, b"", {"Location": f"{server.other_url}/echo"})


def _redirect_bad(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.respond(302, b"", {"Location": "http://[::1"})


def _brotli(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.respond(200, b"\x0b\x02\x80{}\x03", {"Content-Encoding": "br"})


def _too_many(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """``?n=`` answers 429 with ``Retry-After: <after>`` (``?after=``, default 0.2; ``date`` for
    an HTTP date), then 200. Counted per ``?key=``."""
    key = f"429:{_param(received, 'key', '')}"
    with server._lock:
        seen = server._state.hits.get(key, 0)
        server._state.hits[key] = seen + 1
    if seen < int(_param(received, "n", "1")):
        after = _param(received, "after", "0.2")
        headers = {} if after == "none" else {"Retry-After": after}
        conn.json(
            429, {"success": False, "reasons": [{"code": 70, "message": "slow down"}]}, headers
        )
    else:
        conn.json(200, {"ok": True, "attempt": seen + 1})


def _rate_limit_low(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """200, but only ``?remaining=`` (default 1) of 100 requests left for ``?reset=`` s."""
    headers = {
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": _param(received, "remaining", "1"),
        "RateLimit-Reset": _param(received, "reset", "1"),
    }
    conn.json(200, {"ok": True}, headers)


def _token(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    form = parse_qs(received.body.decode("ascii", errors="replace"))
    if (
        form.get("grant_type") != ["client_credentials"]
        or form.get("client_id") != [CLIENT_ID]
        or form.get("client_secret") != [CLIENT_SECRET]
    ):
        conn.json(401, {"error": "invalid_client", "error_description": "bad credentials"})
        return
    with server._lock:
        server._state.tokens_issued += 1
        token = f"access-token-{server._state.tokens_issued:04d}-abcdefghijklmnop"
        server._state.valid_tokens.add(token)
    body = {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": server.token_lifetime_s,
        "scope": "entity.1",
        "jti": "jti-1",
    }
    conn.json(200, body)


def _protected(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    """200 with a valid token (echoing it, as a careless server might), else 401."""
    auth = received.headers.get("authorization", "")
    with server._lock:
        valid = auth.removeprefix("Bearer ") in server._state.valid_tokens
    if valid:
        conn.json(200, {"ok": True, "you_sent": auth})
    else:
        conn.json(401, {"success": False, "reasons": [{"code": 90000011, "message": "auth"}]})


def _not_found(server: MisbehavingServer, conn: _Conn, received: Received) -> None:
    conn.json(404, {"error": f"no route {received.path}"})


Route = Callable[[MisbehavingServer, _Conn, Received], None]

_ROUTES: dict[str, Route] = {
    "/ok": _ok,
    "/echo": _echo,
    "/slow": _slow,
    "/trickle": _trickle,
    "/trickle-headers": _trickle_headers,
    "/close-mid-body": _close_mid_body,
    "/invalid-json": _invalid_json,
    "/huge": _huge,
    "/huge-declared": _huge_declared,
    "/gzip-bomb": _gzip_bomb,
    "/gzip-ok": _gzip_ok,
    "/deflate-ok": _deflate_ok,
    "/invalid-gzip": _invalid_gzip,
    "/redirect-loop": _redirect_loop,
    "/redirect-same": _redirect_same,
    "/redirect-other-host": _redirect_other_host,
    "/redirect-bad": _redirect_bad,
    "/brotli": _brotli,
    "/429": _too_many,
    "/rate-limit-low": _rate_limit_low,
    "/oauth/token": _token,
    "/v1/protected": _protected,
}

_REASONS = {
    200: "OK",
    302: "Found",
    307: "Temporary Redirect",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
}


def unused_port() -> int:
    """A port nothing listens on (bound, then released), for "connection refused"."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
