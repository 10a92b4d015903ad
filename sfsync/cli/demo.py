"""`sfsync demo`: a local org with sample data, full cycles, and what they did."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.panel import Panel
from rich.table import Table
from sqlmodel import col, select

from sfsync.app import App
from sfsync.calendar import BusinessCalendar
from sfsync.cli.context import State, console
from sfsync.cycle import CycleReport, run_cycle
from sfsync.demo_data import DemoOrg, make_demo_org
from sfsync.demo_progress import play_history
from sfsync.kpi_job import portfolio
from sfsync.logs import configure_logging
from sfsync.push.mapping import load_push_mapping
from sfsync.push.metadata import deployable_metadata
from sfsync.settings import Settings, load_settings
from sfsync.store.models import Opportunity, Project

__all__ = [
    "demo_settings",
    "load_demo_org",
    "run_demo",
    "write_demo_data",
    "write_demo_data_file",
]

# The sample data's local references and the lookup fields they fill.
_REFERENCE_FIELDS = {
    "_owner": "OwnerId",
    "_account": "AccountId",
    "_manager": "Onboarding_Manager__c",
    "_engineer": "Solutions_Engineer__c",
}


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


def write_demo_data(path: Path, data: DemoOrg) -> int:
    """Write the sample records as one SFDX data-tree file; returns their count.

    Lookups are ``@referenceId`` values, resolved by ``localorg serve --load``
    in file order: users, then accounts, then opportunities.
    """
    records: list[dict[str, Any]] = []
    for sobject, rows in (
        ("User", data.users),
        ("Account", data.accounts),
        ("Opportunity", data.opportunities),
    ):
        for row in rows:
            record: dict[str, Any] = {
                "attributes": {"type": sobject, "referenceId": row["_ref"]}
            }
            for key, value in row.items():
                if key in _REFERENCE_FIELDS:
                    record[_REFERENCE_FIELDS[key]] = f"@{value}"
                elif not key.startswith("_"):
                    record[key] = value
            records.append(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"records": records}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    return len(records)


def write_demo_data_file(path: Path) -> None:
    """`sfsync demo --write-data`: today's sample data set, for a served org."""
    data = make_demo_org(today=datetime.now(UTC).date())
    count = write_demo_data(path, data)
    console.print(
        f"wrote {count} sample records ({len(data.accounts)} accounts, "
        f"{len(data.opportunities)} opportunities) to {path}; serve them with "
        f"[bold]sfsync localorg serve --load {path}[/] and "
        "--metadata config/salesforce for the custom fields they use",
        highlight=False,
    )


def demo_settings(org_env: dict[str, str], workdir: Path) -> Settings:
    overrides: dict[str, Any] = {
        key.removeprefix("SFSYNC_").lower(): value for key, value in org_env.items()
    }
    overrides["database_url"] = f"sqlite:///{workdir / 'demo.db'}"
    return load_settings(**overrides)


def _show_cycle(title: str, report: CycleReport, writes: int) -> None:
    table = Table("step", "what happened", title=title, title_justify="left")
    for pull in report.pulls:
        table.add_row(
            f"pull {pull.sobject}",
            f"{pull.read} read, {pull.written} changed, {pull.deleted} deleted "
            f"({pull.via})",
        )
    if report.handoff is not None:
        h = report.handoff
        table.add_row(
            "handoff",
            f"{len(h.created)} projects created, {len(h.held)} put on hold, "
            f"{len(h.resumed)} resumed, {h.unassigned_roles} tasks without an owner",
        )
    if report.kpis is not None:
        k = report.kpis
        table.add_row(
            "KPIs",
            f"{k.computed} projects: {k.health['Green']} Green, "
            f"{k.health['Amber']} Amber, {k.health['Red']} Red",
        )
    if report.push is not None:
        push, sent = report.push, report.push.send
        line = f"{len(push.changes)} records with changed fields"
        if sent is not None:
            line += (
                f"; {sent.sent} written in {sent.batches} call(s) via {sent.via}, "
                f"{sent.parked} parked, {sent.deferred} deferred"
            )
        table.add_row("push", line)
    table.add_row(
        "Salesforce API",
        f"{report.api_calls} calls, {writes} of them writes (counted by the org)",
    )
    console.print(table)


def _show_portfolio(app: App) -> None:
    summary = portfolio(app.store)
    health = summary.health
    console.print(
        Panel.fit(
            f"[green]{health['Green']} Green[/]  [yellow]{health['Amber']} Amber[/]  "
            f"[red]{health['Red']} Red[/]   median time to first value: "
            f"{summary.median_time_to_value} business days "
            f"(cohort benchmark {summary.benchmark_time_to_value})",
            title="onboarding portfolio",
        )
    )
    rows = sorted(
        (r for r in summary.rows if r.status == "active"),
        key=lambda r: (
            {"Red": 0, "Amber": 1, "Green": 2}.get(r.health, 3),
            r.project_id,
        ),
    )
    table = Table(title="active projects, most at risk first", title_justify="left")
    table.add_column("id", justify="right")
    table.add_column("deal", max_width=24, no_wrap=True, overflow="ellipsis")
    table.add_column("health")
    table.add_column("done", justify="right")
    table.add_column("P80 go-live", no_wrap=True)
    table.add_column("target", no_wrap=True)
    colour = {"Red": "red", "Amber": "yellow", "Green": "green"}
    shown = rows[:10]
    for row in shown:
        table.add_row(
            str(row.project_id),
            row.name or "",
            f"[{colour.get(row.health, 'white')}]{row.health}[/]",
            f"{row.percent_complete:.0f}%" if row.percent_complete is not None else "",
            str(row.go_live_p80),
            str(row.target_go_live),
        )
    console.print(table)
    for row in shown:
        if row.health != "Green":
            reasons = row.health_summary.partition(": ")[2] or row.health_summary
            console.print(f"  [bold]{row.project_id}[/] {reasons}", highlight=False)


def _show_salesforce(app: App, org: Any) -> None:
    mapping = load_push_mapping(app.settings.mappings_dir / "push.yaml")
    fields = mapping.fields_for("Opportunity")
    with app.store.session() as session:
        ids = list(
            session.exec(
                select(Project.opportunity_id)
                .where(Project.status == "active")
                .order_by(col(Project.id))
                .limit(3)
            )
        )
    for record_id in ids:
        record = org.get("Opportunity", record_id) or {}
        table = Table(
            "field",
            "value",
            title=f"Opportunity {record.get('Name')} in Salesforce",
            title_justify="left",
        )
        for name in fields:
            table.add_row(name, str(record.get(name)))
        console.print(table)


def _salesforce_changes(app: App, org: Any, today: Any) -> list[str]:
    """What people do in Salesforce between two cycles."""
    done: list[str] = []
    with app.store.session() as session:
        open_deal = session.exec(
            select(Opportunity)
            .where(Opportunity.is_closed == False)  # noqa: E712
            .order_by(col(Opportunity.amount).desc())
        ).first()
        won = list(
            session.exec(
                select(Project.opportunity_id)
                .where(Project.status == "active")
                .order_by(col(Project.id))
            )
        )
    if open_deal is not None:
        org.update(
            "Opportunity",
            open_deal.id,
            {"StageName": "Closed Won", "CloseDate": today.isoformat()},
        )
        done.append(f"won a new deal: {open_deal.name}")
    if len(won) > 3:
        org.update("Opportunity", won[-1], {"StageName": "Negotiation/Review"})
        done.append("reopened a won deal (its project goes on hold)")
        org.update("Opportunity", won[0], {"Onboarding_Health__c": "Green"})
        done.append("edited a pushed health field by hand (sfsync restores it)")
    return done


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
    metadata = deployable_metadata(
        config_dir=base.config_dir, mappings_dir=base.mappings_dir, workdir=workdir
    )
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

            def cycle(title: str) -> CycleReport:
                writes = org.stats()["writes"]
                report = run_cycle(app, today=today)
                _show_cycle(title, report, org.stats()["writes"] - writes)
                return report

            cycle("cycle 1: first sync of the org")
            played = play_history(
                app.store, today=today, calendar=BusinessCalendar(base.holiday_country)
            )
            console.print(
                f"\nthe delivery team's recorded work: {played.task_updates} task "
                f"updates and {played.sentiments} customer sentiment scores on "
                f"{played.projects} projects"
            )
            for line in _salesforce_changes(app, org, today):
                console.print(f"in Salesforce, someone {line}")
            console.print()
            cycle("cycle 2: progress recorded, deals changed in Salesforce")
            cycle("cycle 3: nothing new (the pull reads back what cycle 2 wrote)")
            _show_portfolio(app)
            _show_salesforce(app, org)
        finally:
            app.close()
        env_file = workdir / "demo.env"
        lines = [f"SFSYNC_DATABASE_URL=sqlite:///{(workdir / 'demo.db').resolve()}"]
        if keep:
            # The org stays up: its login goes in too, for check, sync and
            # push against it. The file holds a password: owner-only.
            lines += [f"{k}={v}" for k, v in org.env().items()]
        env_file.touch(mode=0o600)
        env_file.chmod(0o600)
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        console.print(
            f"explore the result: [bold]sfsync --env-file {env_file} projects[/] "
            "(also: project show ID, kpi show ID, report, status, outbox)"
        )
        if keep:
            console.print(f"local org still serving at {org.base_url}; Ctrl-C stops it")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
