"""How long instantiating 1,000 projects takes: rules, scheduling and the inserts.

Run as ``python -m benchmarks.handoff [--projects N] [--database URL]``. It
seeds N won opportunities (a third each sized for the three playbooks) in a
fresh store, times one handoff that creates all their projects, and times a
second that creates none.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import func, select

from sfsync.handoff import HandoffConfig, handoff
from sfsync.mapping import load_mappings
from sfsync.store.db import open_store
from sfsync.store.models import Account, Opportunity, ProjectTask

ROOT = Path(__file__).resolve().parents[1]
AMOUNTS = (Decimal("9000"), Decimal("40000"), Decimal("250000"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--database", default=None, help="default: a temp SQLite")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'handoff.db'}"
    store = open_store(url)
    stamp = datetime(2026, 11, 2, 12, tzinfo=UTC)
    with store.transaction() as session:
        session.add(
            Account(id="001000000000001AAA", name="Bench", system_modstamp=stamp)
        )
        for i in range(args.projects):
            session.add(
                Opportunity(
                    id=f"006{i:012d}AAA",
                    account_id="001000000000001AAA",
                    name=f"Deal {i}",
                    stage_name="Closed Won",
                    is_won=True,
                    is_closed=True,
                    close_date=date(2026, 11, 2),
                    amount=AMOUNTS[i % 3],
                    owner_id="005000000000009AAA",
                    onboarding_manager_id="005000000000001AAA",
                    system_modstamp=stamp,
                )
            )
    config = HandoffConfig.load(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        mappings=load_mappings(ROOT / "mappings"),
        country="US",
    )

    started = time.perf_counter()
    first = handoff(store, config, today=date(2026, 11, 3))
    created_s = time.perf_counter() - started
    started = time.perf_counter()
    second = handoff(store, config, today=date(2026, 11, 3))
    again_s = time.perf_counter() - started

    with store.session() as session:
        tasks = session.exec(select(func.count()).select_from(ProjectTask)).one()
    store.dispose()
    print(f"database: {url.split('://')[0]}")
    print(
        f"instantiated {len(first.created):,} projects ({tasks:,} tasks) in "
        f"{created_s:.2f} s: {created_s / max(len(first.created), 1) * 1000:.2f} ms "
        "per project"
    )
    print(f"second handoff: {len(second.created)} created in {again_s:.2f} s")


if __name__ == "__main__":
    main()
