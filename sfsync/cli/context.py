"""What every command gets: settings loaded once, the app built lazily, a console."""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console

from sfsync.app import App
from sfsync.logs import configure_logging
from sfsync.settings import Settings, load_settings

__all__ = [
    "Format",
    "Output",
    "State",
    "console",
    "emit_json",
    "state",
    "utf8_stdout",
]

# Off a terminal (a pipe, a file, a CI log) Rich would wrap tables at 80
# columns, cutting Ids and dates; such output gets this width unless
# COLUMNS says otherwise.
PIPED_WIDTH = 160


def _width(stream: Any) -> int | None:
    if os.environ.get("COLUMNS") or getattr(stream, "isatty", lambda: True)():
        return None
    return PIPED_WIDTH


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))


class Format(StrEnum):
    """Output of commands that can also write CSV."""

    table = "table"
    json = "json"
    csv = "csv"


class Output(StrEnum):
    """Output of commands that print a table for people or JSON for machines."""

    table = "table"
    json = "json"


@dataclass
class State:
    env_file: Path | None = None
    log_format: str | None = None
    log_level: str | None = None
    _settings: Settings | None = field(default=None, init=False)
    _app: App | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(env_file=self.env_file)
            configure_logging(
                fmt=self.log_format or self._settings.log_format,
                level=self.log_level or self._settings.log_level,
            )
        return self._settings

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App(self.settings)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def utf8_stdout() -> TextIO:
    """Standard output switched to UTF-8, for JSON and CSV that other tools read.

    Names such as ``Łódź Sp. z o.o.`` must arrive intact whatever the
    terminal's or the locale's encoding; a pipe under a Latin-1 locale would
    otherwise fail on them.
    """
    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower() not in {
        "utf-8",
        "utf8",
    }:
        stream.reconfigure(encoding="utf-8")
    return stream


def emit_json(value: Any) -> None:
    """Print JSON to stdout for machines: no colour, no wrapping."""
    stream = utf8_stdout()
    stream.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")
    stream.flush()
