"""Exports of the scenario library for other tools: ``jr-conformance export arazzo``.

:func:`build_arazzo` turns scenarios into an Arazzo 1.0.1 document (pure); :func:`write_arazzo`
writes it with the spec it names; :func:`add_export_command` adds the CLI command.
"""

from ._arazzo import ARAZZO_VERSION, SOURCE_NAME, ArazzoExport, LeftOut, build_arazzo, write_arazzo
from ._cli import add_export_command, export_tenant_data

__all__ = [
    "ARAZZO_VERSION",
    "SOURCE_NAME",
    "ArazzoExport",
    "LeftOut",
    "add_export_command",
    "build_arazzo",
    "export_tenant_data",
    "write_arazzo",
]
