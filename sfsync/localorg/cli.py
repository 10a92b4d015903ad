"""The ``localorg`` command line: serve an org, read its counters."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["app"]

app = typer.Typer(help="A local Salesforce org over HTTPS for demos and tests.")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks one.")] = 0,
    state: Annotated[
        Path | None, typer.Option(help="JSON file loaded at start, saved on exit.")
    ] = None,
    load: Annotated[
        list[Path] | None,
        typer.Option(help="Query-response or data-tree JSON to load (repeatable)."),
    ] = None,
    latency_ms: Annotated[float, typer.Option(help="Delay added to every call.")] = 0,
    env_file: Annotated[
        Path | None,
        typer.Option(
            help="Write the SFSYNC_* login settings here (its CA file is removed "
            "when the org stops)."
        ),
    ] = None,
    metadata: Annotated[
        list[Path] | None,
        typer.Option(help="SFDX source directory with custom fields (repeatable)."),
    ] = None,
) -> None:
    """Serve an org until interrupted; it starts empty unless given --load."""
    from sfsync.localorg.errors import StartupError
    from sfsync.localorg.server import LocalOrg

    try:
        org = LocalOrg(
            port=port,
            latency_ms=latency_ms,
            metadata_dirs=metadata or [],
            state_file=state,
            load_files=load or [],
        )
    except StartupError as exc:
        typer.echo(f"localorg: {exc}", err=True)
        raise typer.Exit(2) from None
    if env_file is not None:
        org.write_env_file(env_file)
    typer.echo(f"localorg serving {org.base_url} (CA file {org.ca_file})", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        org.serve_forever()


def _read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text("utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def admin_call(
    url: str, action: str, payload: dict[str, Any] | None = None, *, ca_file: str
) -> Any:
    """POST one admin action to a running org and return its JSON answer."""
    import requests

    session = requests.Session()
    session.trust_env = False
    reply = session.post(
        f"{url.rstrip('/')}/__admin/{action}",
        json=payload or {},
        verify=ca_file,
        timeout=30,
    )
    reply.raise_for_status()
    return reply.json()


@app.command()
def stats(
    url: Annotated[str | None, typer.Option(help="Base URL of the org.")] = None,
    env_file: Annotated[
        Path | None, typer.Option(help="Env file written by serve --env-file.")
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option(help="CA file (default: from the env file).")
    ] = None,
) -> None:
    """Print the org's API call counters as JSON."""
    env = _read_env(env_file) if env_file else {}
    base = url or env.get("SFSYNC_LOGIN_URL")
    ca = str(ca_file) if ca_file else env.get("SFSYNC_CA_FILE")
    if not base or not ca:
        raise typer.BadParameter("give --env-file, or --url with --ca-file")
    typer.echo(json.dumps(admin_call(base, "stats", ca_file=ca), indent=2))
