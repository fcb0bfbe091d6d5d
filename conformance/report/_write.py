"""Writing the reports: every format from one summary, each file replaced atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .._exceptions import UsageError
from .._results import RunResult
from ._badge import render_badge
from ._har import har_chunks
from ._html import render_html
from ._json import render_json
from ._junit import render_junit
from ._markdown import render_markdown
from ._summary import Summary, summarise

Renderer = Callable[[RunResult, Summary | None], str]
#: A renderer whose output comes in pieces, written as they come.
ChunkRenderer = Callable[[RunResult, Summary | None], Iterable[str]]

#: Format name -> (file name, renderer).
FORMATS: dict[str, tuple[str, Renderer]] = {
    "json": ("results.json", render_json),
    "junit": ("junit.xml", render_junit),
    "html": ("report.html", render_html),
    "markdown": ("summary.md", render_markdown),
}

#: Written on every run, whatever the formats: the HTTP Archive of the evidence and the
#: shields.io endpoint file (name -> (file name, renderer)).
ALWAYS: dict[str, tuple[str, ChunkRenderer]] = {
    "har": ("exchanges.har", lambda result, _summary: har_chunks(result)),
    "badge": ("badge.json", render_badge),
}


def _write_atomically(path: Path, text: str | Iterable[str]) -> None:
    # A reader (a CI step, a browser) never sees half a file; lone surrogates, which a body
    # decoded with errors="surrogateescape" could hold, become U+FFFD rather than an error.
    # ``text`` may come in pieces (the HAR), written as they come.
    chunks = [text] if isinstance(text, str) else text
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk.encode("utf-8", errors="replace"))
        os.chmod(temp, 0o644)  # mkstemp makes it private; reports are meant to be shared
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_reports(
    result: RunResult,
    out_dir: Path,
    formats: Sequence[str] = ("json", "junit", "html", "markdown"),
) -> dict[str, Path]:
    """Render ``result`` in each of ``formats`` into ``out_dir``, and the files of ``ALWAYS``;
    return format -> file written."""
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        raise UsageError(
            f"unknown report format {', '.join(map(repr, unknown))} "
            f"(choose from {', '.join(FORMATS)})"
        )
    out_dir = Path(out_dir)
    summary = summarise(result)
    written: dict[str, Path] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        renderers: list[tuple[str, tuple[str, ChunkRenderer]]] = [
            *((name, FORMATS[name]) for name in dict.fromkeys(formats)),
            *ALWAYS.items(),
        ]
        for name, (file_name, render) in renderers:
            path = out_dir / file_name
            _write_atomically(path, render(result, summary))
            written[name] = path
    except OSError as exc:
        raise UsageError(f"cannot write reports to {out_dir}: {exc.strerror or exc}") from None
    return written
