"""Reads a YAML file while remembering the line of every key and item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

__all__ = ["Problem", "YamlSource", "format_problems", "read_yaml"]

Loc = tuple[str | int, ...]


class Problem(NamedTuple):
    """One thing wrong with a file, at a line (1-based; 0 when unknown)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def format_problems(problems: Sequence[Problem]) -> str:
    """One ``file:line: message`` per line, in file and line order."""
    return "\n".join(str(problem) for problem in problems)


@dataclass
class YamlSource:
    """A parsed YAML document and the line where each path in it starts."""

    file: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """The line of ``loc``, or of its closest enclosing part that exists."""
        path = tuple(loc)
        while path:
            line = self.lines.get(path)
            if line is not None:
                return line
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: Sequence[str | int], message: str) -> Problem:
        """A problem placed at ``loc``'s line, also kept in ``problems``."""
        found = Problem(self.file, self.line_of(loc), message)
        self.problems.append(found)
        return found


def read_yaml(path: Path | str) -> YamlSource:
    """Parse ``path``; syntax errors and duplicate keys land in ``problems``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        source = YamlSource(name, None)
        source.problems.append(Problem(name, 0, f"cannot read the file: {exc}"))
        return source
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        source = YamlSource(name, None)
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        source.problems.append(Problem(name, line, f"YAML syntax: {detail}"))
        return source
    except yaml.YAMLError as exc:
        source = YamlSource(name, None)
        source.problems.append(Problem(name, 0, f"YAML syntax: {exc}"))
        return source
    finally:
        loader.dispose()
    source = YamlSource(name, data)
    if node is not None:
        source.lines[()] = node.start_mark.line + 1
        _record(source, node, ())
    return source


def _record(source: YamlSource, node: yaml.Node, loc: Loc) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            child = (*loc, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                # PyYAML keeps the last of two equal keys without a word; a
                # silently dropped task list is worse than a loud error.
                source.problems.append(
                    Problem(source.file, line, f"key {key!r} appears twice")
                )
            seen.add(key)
            source.lines.setdefault(child, line)
            _record(source, value_node, child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*loc, index)
            source.lines[child] = item.start_mark.line + 1
            _record(source, item, child)
