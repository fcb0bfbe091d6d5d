"""How answers go over the wire, where HTTP/1.1 leaves the server a choice (the variants
connection-close, chunked-bodies and header-names-title-case).

An ASGI middleware outside everything else, so it frames exactly what the client receives: it
rewrites the ``http.response.start`` headers and splits the body into several messages, which
uvicorn then sends with ``Transfer-Encoding: chunked`` because no Content-Length is declared.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._settings import ReferenceSettings

#: Bytes per chunk under chunked-bodies: small, so even an error envelope comes in pieces.
CHUNK_BYTES = 64


def title_case(name: bytes) -> bytes:
    """``zuora-request-id`` -> ``Zuora-Request-Id``."""
    return b"-".join(part[:1].upper() + part[1:] for part in name.split(b"-"))


class Transport:
    def __init__(
        self, app: ASGIApp, *, close: bool = False, chunked: bool = False, title: bool = False
    ) -> None:
        self.app = app
        self.close = close
        self.chunked = chunked
        self.title = title

    @staticmethod
    def chosen(settings: ReferenceSettings) -> dict[str, Any] | None:
        """The middleware's options for ``settings``, or None when no transport variant is on."""
        options = {
            "close": settings.has_variant("connection-close"),  # VARIANT connection-close
            "chunked": settings.has_variant("chunked-bodies"),  # VARIANT chunked-bodies
            # VARIANT header-names-title-case
            "title": settings.has_variant("header-names-title-case"),
        }
        return options if any(options.values()) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def framed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if self.chunked:
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                if self.close:
                    headers = [(k, v) for k, v in headers if k.lower() != b"connection"]
                    headers.append((b"connection", b"close"))
                if self.title:
                    headers = [(title_case(k), v) for k, v in headers]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and self.chunked:
                body: bytes = message.get("body", b"")
                more: bool = message.get("more_body", False)
                pieces = [body[i : i + CHUNK_BYTES] for i in range(0, len(body), CHUNK_BYTES)]
                for piece in pieces[:-1]:
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                message = {**message, "body": pieces[-1] if pieces else b"", "more_body": more}
            await send(message)

        await self.app(scope, receive, framed)
