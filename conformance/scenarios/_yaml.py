"""YAML as scenario files are read: YAML 1.2 core-schema scalars (only ``true``/``false`` are
booleans, ``Yes`` stays a string, dates stay strings, ``012`` is 12), every value's line kept,
duplicate keys refused; and the :class:`Document` that turns a place in it into a message
(``scenarios/cancel/x.yaml:12: steps[2].expect.status: ...``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from .._catalogue import SafeLoader
from .._exceptions import ScenarioFormatError

#: A place in the document: keys and list indexes from the top.
Path_ = tuple[str | int, ...]


class _Loader(SafeLoader):
    """YAML 1.2 core-schema scalars on top of PyYAML's safe loader (libyaml's parser where
    PyYAML has it: the library loads three times faster; the nodes, marks and errors are the
    same)."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    (
        "float",
        r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$",
        "-+.0123456789",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^(?:<<)$", "<"),
):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))

_SCALAR = "tag:yaml.org,2002:"


def compose(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioFormatError(f"{source}:1: the file is empty")
        lines: dict[Path_, int] = {}
        return _construct(loader, node, (), lines, source), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "cannot parse"
        raise ScenarioFormatError(f"{source}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioFormatError(f"{source}:1: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _construct(
    loader: _Loader, node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    where = f"{source}:{node.start_mark.line + 1}"
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, (*path, "<key>"), {}, source)
            if not isinstance(key, str):
                raise ScenarioFormatError(f"{where}: {_dotted(path)}: keys must be strings")
            if key in result:
                line = key_node.start_mark.line + 1
                raise ScenarioFormatError(
                    f"{source}:{line}: {_dotted(path)}: duplicate key {key!r}"
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _construct(loader, value_node, (*path, key), lines, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, i), lines, source) for i, item in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)
    tag, value = node.tag, node.value
    if tag == f"{_SCALAR}str" or (tag == "!" and isinstance(value, str)):
        return value
    if tag == f"{_SCALAR}bool":
        return value.lower() == "true"
    if tag == f"{_SCALAR}int":
        return int(value, 10)
    if tag == f"{_SCALAR}float":
        return float(value)
    if tag == f"{_SCALAR}null":
        return None
    raise ScenarioFormatError(f"{where}: {_dotted(path)}: unsupported YAML tag {tag!r}")


@dataclass
class Document:
    source: str
    lines: dict[Path_, int]

    def line(self, path: Path_) -> int:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def error(self, path: Path_, message: str) -> ScenarioFormatError:
        where = _dotted(path)
        prefix = f"{where}: " if where else ""
        return ScenarioFormatError(f"{self.source}:{self.line(path)}: {prefix}{message}")


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text
