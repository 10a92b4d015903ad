"""The `sfsync` command: one entry point, commands grouped by what they do."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape

from sfsync.cli import core_cmds, kpi_cmds, project_cmds, push_cmds, service_cmds
from sfsync.cli.context import State, err_console
from sfsync.errors import SfsyncError
from sfsync.localorg.cli import app as localorg_app
from sfsync.logs import scrub

app = typer.Typer(
    name="sfsync",
    help="Turn won Salesforce deals into tracked onboarding projects and report "
    "their status back to Salesforce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            envvar="SFSYNC_ENV_FILE",
            help="Read SFSYNC_* settings from this file (as written by "
            "`sfsync localorg serve --env-file`).",
        ),
    ] = None,
    log_format: Annotated[
        Literal["auto", "console", "json"] | None,
        typer.Option(
            case_sensitive=False,
            help="auto (JSON off a terminal), console or json.",
        ),
    ] = None,
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None,
        typer.Option(case_sensitive=False, help="The least severe level logged."),
    ] = None,
) -> None:
    ctx.obj = State(env_file=env_file, log_format=log_format, log_level=log_level)
    ctx.call_on_close(ctx.obj.close)


core_cmds.register(app)
project_cmds.register(app)
kpi_cmds.register(app)
push_cmds.register(app)
service_cmds.register(app)
app.add_typer(localorg_app, name="localorg", help="Serve a local Salesforce org.")


def main() -> None:
    """Run the app; sfsync's errors become a message and an exit code."""
    try:
        app()
    except SfsyncError as exc:
        # Escaped: a message may quote "[schedule]" or a list, which Rich
        # would otherwise take for markup and drop.
        err_console.print(
            f"[bold red]error:[/] {escape(scrub(exc.message))}", highlight=False
        )
        if exc.hint:
            err_console.print(
                f"[yellow]what to do:[/] {escape(scrub(exc.hint))}", highlight=False
            )
        sys.exit(exc.exit_code)
    except OSError as exc:
        # A path the command was given cannot be read or written: say which,
        # and why, instead of a traceback.
        where = f": {exc.filename}" if exc.filename else ""
        err_console.print(
            f"[bold red]error:[/] {escape(scrub(exc.strerror or str(exc)) + where)}",
            highlight=False,
        )
        err_console.print(
            "[yellow]what to do:[/] check the path, that its folder exists and that "
            "you may read or write it",
            highlight=False,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        # Work is committed page by page and batch by batch; an interrupted
        # run is picked up by the next one.
        err_console.print("interrupted; what was committed is kept")
        sys.exit(130)


if __name__ == "__main__":
    main()
