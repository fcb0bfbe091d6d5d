"""The API's resources as the suite addresses them: journal runs and entries, the operations on
them and their paths, and the format of their numbers.

The operations and path templates are the spec's (``tests/test_paths.py`` holds them to the
catalogue's operations); every other module builds a path or reads one back here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import quote, unquote

RUN: Final = "journal-run"
ENTRY: Final = "journal-entry"
Kind = Literal["journal-run", "journal-entry"]

#: A journal run's number: ``JR-`` and eight zero-padded digits; an entry's: ``JE-``.
RUN_NUMBER: Final = re.compile(r"^JR-\d{8}$")
ENTRY_NUMBER: Final = re.compile(r"^JE-\d{8}$")
#: The path parameters that name a run and an entry.
RUN_PARAMETER: Final = "jr-number"
ENTRY_PARAMETER: Final = "je-number"
#: Path parameter -> the kind of resource it names.
PARAMETER_KIND: Final[Mapping[str, Kind]] = {RUN_PARAMETER: RUN, ENTRY_PARAMETER: ENTRY}
NUMBER_FORMAT: Final[Mapping[Kind, re.Pattern[str]]] = {RUN: RUN_NUMBER, ENTRY: ENTRY_NUMBER}

CREATE_RUN: Final = "POST_JournalRun"
GET_RUN: Final = "GET_JournalRun"
CANCEL_RUN: Final = "PUT_JournalRun"
DELETE_RUN: Final = "DELETE_JournalRun"
CREATE_ENTRY: Final = "POST_SummaryJournalEntry"
GET_ENTRY: Final = "GET_SummaryJournalEntry"
LIST_ENTRIES: Final = "GET_AllSummaryJournalEntries"
UPDATE_ENTRY: Final = "PUT_BasicSummaryJournalEntry"
CANCEL_ENTRY: Final = "PUT_SummaryJournalEntry"
DELETE_ENTRY: Final = "DELETE_SummaryJournalEntry"

RUNS: Final = "/v1/journal-runs"
ENTRIES: Final = "/v1/journal-entries"

#: operationId -> (method, path template), as the spec declares them.
OPERATIONS: Final[Mapping[str, tuple[str, str]]] = {
    CREATE_RUN: ("POST", RUNS),
    GET_RUN: ("GET", f"{RUNS}/{{{RUN_PARAMETER}}}"),
    CANCEL_RUN: ("PUT", f"{RUNS}/{{{RUN_PARAMETER}}}/cancel"),
    DELETE_RUN: ("DELETE", f"{RUNS}/{{{RUN_PARAMETER}}}"),
    CREATE_ENTRY: ("POST", ENTRIES),
    GET_ENTRY: ("GET", f"{ENTRIES}/{{{ENTRY_PARAMETER}}}"),
    LIST_ENTRIES: ("GET", f"{ENTRIES}/journal-runs/{{{RUN_PARAMETER}}}"),
    UPDATE_ENTRY: ("PUT", f"{ENTRIES}/{{{ENTRY_PARAMETER}}}/basic-information"),
    CANCEL_ENTRY: ("PUT", f"{ENTRIES}/{{{ENTRY_PARAMETER}}}/cancel"),
    DELETE_ENTRY: ("DELETE", f"{ENTRIES}/{{{ENTRY_PARAMETER}}}"),
}

#: The creates: collection path -> (kind, the answer's field naming the new number).
CREATES: Final[Mapping[str, tuple[Kind, str]]] = {
    RUNS: (RUN, "journalRunNumber"),
    ENTRIES: (ENTRY, "journalEntryNumber"),
}

#: A number no journal run has (numbering starts at JR-00000001): reading it is harmless.
NO_RUN: Final = "JR-00000000"

_PATH_PARAM = re.compile(r"\{([^{}]+)\}")


def path(operation_id: str, number: str | None = None) -> str:
    """The path of ``operation_id`` for ``number`` (quoted): ``path(CANCEL_RUN, "JR-00000001")``
    is ``/v1/journal-runs/JR-00000001/cancel``."""
    template = OPERATIONS[operation_id][1]
    if number is None:
        return template
    return fill_path(template, dict.fromkeys(path_params(template), number))


def path_params(template: str) -> tuple[str, ...]:
    """The names of the ``{name}`` parameters of a path template, in order."""
    return tuple(_PATH_PARAM.findall(template))


def fill_path(template: str, params: Mapping[str, Any]) -> str:
    """The template with each ``{name}`` replaced by its value, percent-encoded (``/`` too)."""
    return _PATH_PARAM.sub(lambda m: quote(str(params[m.group(1)]), safe=""), template)


def match_path(template: str, path: str) -> dict[str, str] | None:
    """The inverse of :func:`fill_path`: the decoded parameters if ``path`` fits ``template``
    (each ``{name}`` one path segment), else ``None``."""
    pattern = _template_regex(template)
    found = pattern.fullmatch(path)
    if found is None:
        return None
    values = found.groups()
    return {n: unquote(v) for n, v in zip(path_params(template), values, strict=True)}


@functools.lru_cache(maxsize=64)
def _template_regex(template: str) -> re.Pattern[str]:
    parts = _PATH_PARAM.split(template)
    return re.compile(
        "".join(re.escape(part) if i % 2 == 0 else "([^/]+)" for i, part in enumerate(parts))
    )


def read_path(kind: str, number: str) -> str:
    """The path that retrieves ``number`` of ``kind``."""
    return path(GET_RUN if kind == RUN else GET_ENTRY, number)


def resource(api_path: str) -> tuple[str, str] | None:
    """What a path (relative to the base URL) names: ``("run", n)``, ``("entry", n)``,
    ``("entries-of-run", n)``; ``None`` for a collection or anything else."""
    parts = [unquote(part) for part in api_path.strip("/").split("/")]
    if len(parts) < 3 or parts[0] != "v1":
        return None
    if parts[1] == RUNS.rsplit("/", 1)[1]:
        return ("run", parts[2])
    if parts[1] == ENTRIES.rsplit("/", 1)[1]:
        if parts[2] == "journal-runs":
            return ("entries-of-run", parts[3]) if len(parts) > 3 else None
        return ("entry", parts[2])
    return None


def is_entry_path(api_path: str) -> bool:
    """Whether a path is under the journal entries."""
    return api_path == ENTRIES or api_path.startswith(ENTRIES + "/")
