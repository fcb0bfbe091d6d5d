"""Reading bodies within the caps: bytes on the wire and after decompression."""

from __future__ import annotations

import zlib
from typing import Any

# -- bodies ------------------------------------------------------------------------------------


class _BodyError(Exception):
    """A body could not be read within the caps; the message is the readable reason."""


class _Decoder:
    """Incremental gzip/deflate decoding that refuses to produce more than ``cap`` bytes."""

    def __init__(self, encoding: str, cap: int) -> None:
        self._encoding = encoding
        self._cap = cap
        self._produced = 0
        self._deflate_raw = False
        self._first = True
        self._obj = self._new()

    def _new(self) -> Any:
        if self._encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._deflate_raw else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        while data:
            try:
                chunk = self._obj.decompress(data, self._cap - self._produced + 1)
            except zlib.error as exc:
                # "deflate" is often sent without the zlib wrapper; retry raw once, as browsers do.
                if self._encoding == "deflate" and self._first and not self._deflate_raw:
                    self._deflate_raw = True
                    self._obj = self._new()
                    continue
                raise _BodyError(f"invalid {self._encoding} body: {exc}") from None
            self._first = False
            self._produced += len(chunk)
            if self._produced > self._cap:
                raise _BodyError(f"{self._encoding} body decompresses beyond {self._cap} bytes")
            out += chunk
            # Under the cap, decompress() consumed everything unless a member ended: several
            # gzip members in a row are legal, so start the next one.
            data = self._obj.unused_data if self._obj.eof else b""
            if data:
                self._obj = self._new()
        return bytes(out)

    def flush(self) -> bytes:
        return self._obj.flush()  # type: ignore[no-any-return]
