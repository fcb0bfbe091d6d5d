"""Where the suite's data files live.

The repository keeps ``spec/`` and ``scenarios/`` at its top (the users' layout). A wheel carries a
copy under ``conformance/_data/`` (see ``pyproject.toml``); an editable install or a checkout reads
the originals. Nothing here ever looks outside those two places.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def spec_dir() -> Path:
    """The folder holding the OpenAPI spec and the requirement catalogue."""
    return _data_dir("spec")


def scenarios_dir() -> Path:
    """The folder holding the bundled scenario library."""
    return _data_dir("scenarios")


def schemas_dir() -> Path:
    """The JSON Schemas of every file format the suite reads or writes."""
    return _PACKAGE / "schemas"


SPEC_FILE = "journal-runs.openapi.yaml"
REQUIREMENTS_FILE = "requirements.yaml"


def spec_path() -> Path:
    return spec_dir() / SPEC_FILE


def requirements_path() -> Path:
    return spec_dir() / REQUIREMENTS_FILE


def schema_path(name: str) -> Path:
    """``schema_path("requirements")`` -> ``.../schemas/requirements.schema.json``."""
    return schemas_dir() / f"{name}.schema.json"
