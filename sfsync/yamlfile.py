"""YAML loading that remembers the line of every key, for errors that point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sfsync.errors import ConfigError

__all__ = ["LocatedYaml", "load_located_yaml"]

Path_ = tuple[str | int, ...]


@dataclass
class LocatedYaml:
    """Plain data from a YAML file, with the line (1-based) of each path in it."""

    path: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, *key: str | int) -> int:
        """The line of ``key``, or of its nearest ancestor that has one."""
        probe = tuple(key)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)

    def where(self, *key: str | int) -> str:
        return f"{self.path}:{self.line(*key)}"


def _walk(node: yaml.Node, prefix: Path_, lines: dict[Path_, int], path: Path) -> Any:
    lines.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            line = key_node.start_mark.line + 1
            if key in result:
                # PyYAML keeps the last of two equal keys without a word, so a
                # mapping written twice would silently lose its first half.
                first = lines[(*prefix, key)]
                raise ConfigError(
                    f"{path}:{line}: key {key!r} appears twice (first at line {first})",
                    hint="keep one of the two and delete the other",
                )
            lines[(*prefix, key)] = line
            result[key] = _walk(value_node, (*prefix, key), lines, path)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk(item, (*prefix, i), lines, path) for i, item in enumerate(node.value)
        ]
    return yaml.safe_load(yaml.serialize(node))


def load_located_yaml(path: Path) -> LocatedYaml:
    """Parse ``path``; a syntax error or a key given twice becomes a ConfigError.

    The error names the file and the line. Mappings, push mappings and the
    health rules are read here; playbooks and handoff rules go through
    ``sfsync.playbooks.source``, which collects the same problems as a list.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        line = text_line_of_offset(path.read_bytes(), exc.start)
        raise ConfigError(f"{path}:{line}: not valid UTF-8") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(
            f"{path}:{line}: YAML syntax error: {problem}",
            hint="fix the YAML at that line",
        ) from None
    lines: dict[Path_, int] = {}
    data = _walk(node, (), lines, path) if node is not None else None
    return LocatedYaml(path=path, data=data, lines=lines)


def text_line_of_offset(raw: bytes, offset: int) -> int:
    return raw[:offset].count(b"\n") + 1
