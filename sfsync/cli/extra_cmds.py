"""Registers the command groups beyond the sync core."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from sfsync.localorg.cli import app as localorg_app  # noqa: PLC0415

    app.add_typer(localorg_app, name="localorg", help="A local Salesforce org.")
