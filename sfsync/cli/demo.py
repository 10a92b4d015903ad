"""`sfsync demo`: a local org with sample data, two full cycles, and what they did."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.panel import Panel
from rich.table import Table

from sfsync.app import App
from sfsync.cli.context import State, console
from sfsync.cycle import CycleReport, run_cycle
from sfsync.demo_data import DemoOrg, make_demo_org
from sfsync.logs import configure_logging
from sfsync.push.mapping import load_push_mapping
from sfsync.push.metadata import export_metadata
from sfsync.settings import Settings, load_settings

__all__ = ["load_demo_org", "run_demo"]


def load_demo_org(org: Any, data: DemoOrg) -> dict[str, str]:
    """Insert the sample records into a local org; returns ref -> Salesforce Id."""
    ids: dict[str, str] = {}

    def fields(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    for user in data.users:
        ids[user["_ref"]] = org.insert("User", fields(user))
    for account in data.accounts:
        values = fields(account) | {"OwnerId": ids[account["_owner"]]}
        ids[account["_ref"]] = org.insert("Account", values)
    for opportunity in data.opportunities:
        values = fields(opportunity) | {
            "AccountId": ids[opportunity["_account"]],
            "OwnerId": ids[opportunity["_owner"]],
        }
        if "_manager" in opportunity:
            values["Onboarding_Manager__c"] = ids[opportunity["_manager"]]
        if "_engineer" in opportunity:
            values["Solutions_Engineer__c"] = ids[opportunity["_engineer"]]
        ids[opportunity["_ref"]] = org.insert("Opportunity", values)
    return ids


def demo_settings(org_env: dict[str, str], workdir: Path) -> Settings:
    overrides: dict[str, Any] = {
        key.removeprefix("SFSYNC_").lower(): value for key, value in org_env.items()
    }
    overrides["database_url"] = f"sqlite:///{workdir / 'demo.db'}"
    return load_settings(**overrides)


def _show_cycle(title: str, report: CycleReport) -> None:
    table = Table("object", "read", "written", "deleted", "via", title=title)
    for pull in report.pulls:
        table.add_row(
            pull.sobject, str(pull.read), str(pull.written), str(pull.deleted), pull.via
        )
    console.print(table)
    if report.handoff is not None:
        h = report.handoff
        console.print(
            f"projects created: [bold]{len(h.created)}[/], put on hold: "
            f"{len(h.held)}, resumed: {len(h.resumed)}, tasks without an owner: "
            f"{h.unassigned_roles}"
        )
    if report.push is not None:
        push = report.push
        sent = push.send
        line = f"records with changed fields: [bold]{len(push.changes)}[/]"
        if sent is not None:
            line += (
                f", written {sent.sent} in {sent.batches} call(s) via {sent.via}, "
                f"parked {sent.parked}, deferred {sent.deferred}"
            )
        console.print(line)
    console.print(f"API calls in this cycle: [bold]{report.api_calls}[/]")


def run_demo(st: State, *, keep: bool) -> None:
    from sfsync.localorg import LocalOrg

    base = st.settings
    if st.log_level is None:
        # The demo's tables tell the story; log lines below WARNING would
        # bury them. --log-level INFO shows every step.
        configure_logging(fmt=st.log_format or base.log_format, level="WARNING")
    workdir = Path(base.state_dir) / "demo"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    # The org gets exactly what an admin deploys: the pulled custom fields
    # shipped in config/salesforce and the pushed ones exported from
    # mappings/push.yaml.
    exported = workdir / "push-metadata"
    export_metadata(load_push_mapping(base.mappings_dir / "push.yaml"), exported)
    metadata = [base.config_dir / "salesforce", exported]
    today = datetime.now(UTC).date()
    with LocalOrg.start(metadata_dirs=metadata) as org:
        data = make_demo_org(today=today)
        load_demo_org(org, data)
        console.print(
            Panel.fit(
                f"local org at [bold]{org.base_url}[/] with {len(data.accounts)} "
                f"accounts and {len(data.opportunities)} opportunities\n"
                f"local database: {workdir / 'demo.db'}",
                title="sfsync demo",
            )
        )
        app = App(demo_settings(org.env(), workdir))
        try:
            first = run_cycle(app, today=today)
            _show_cycle("cycle 1: first sync", first)
            second = run_cycle(app, today=today)
            _show_cycle("cycle 2: nothing changed in Salesforce", second)
        finally:
            app.close()
        if keep:
            console.print(f"local org still serving at {org.base_url}; Ctrl-C stops it")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
