"""Reconciliation of the mirror: hard deletes and drift found, counted and repaired."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sfsync import reconcile as reconcile_module
from sfsync.cycle import run_pull
from sfsync.errors import ConflictError
from sfsync.localorg import LocalOrg
from sfsync.reconcile import reconcile
from sfsync.service.locks import SYNC_LOCK, job_lock
from sfsync.store.models import Account, Opportunity
from tests.service.conftest import app_for, won_deal


def test_reconcile_marks_hard_deleted_records_and_repulls_drifted_ones(
    org: LocalOrg, tmp_path: Path
) -> None:
    """Cases SC-09 (hard deletes) and SC-10 (drift)."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    gone = org.insert("Opportunity", won_deal(account, 1))
    drifted = org.insert("Opportunity", won_deal(account, 2))
    app = app_for(org, f"sqlite:///{tmp_path / 'r.db'}")
    run_pull(app)
    org.hard_delete("Opportunity", gone)
    org.update("Opportunity", drifted, {"Name": "Renamed behind the watermark"})
    with app.store.transaction() as session:
        # The local copy keeps its old version, as after a missed change.
        row = session.get(Opportunity, drifted)
        assert row is not None
        row.system_modstamp = datetime(2020, 1, 1, tzinfo=UTC)
        session.add(row)

    report = reconcile(app)

    by_object = {m.sobject: m for m in report.mirror}
    assert by_object["Opportunity"].missing_in_salesforce == [gone]
    assert by_object["Opportunity"].drifted == [drifted]
    # Edited after the pull read Salesforce: counted apart from unseen drift.
    assert by_object["Opportunity"].changed_since_pull == 1
    assert by_object["Account"].missing_in_salesforce == []
    with app.store.session() as session:
        assert session.get(Opportunity, gone).is_deleted  # type: ignore[union-attr]
        fresh = session.get(Opportunity, drifted)
        assert fresh is not None
        assert fresh.name == "Renamed behind the watermark"
        assert not session.get(Account, account).is_deleted  # type: ignore[union-attr]
    assert report.pushed_note is None or "not compared" in report.pushed_note


def test_reconcile_whose_id_query_times_out_reads_the_set_through_bulk(
    org: LocalOrg, tmp_path: Path
) -> None:
    """Case SC-05: a whole-object query that times out does not end the reconcile."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    gone = org.insert("Opportunity", won_deal(account, 1))
    kept = org.insert("Opportunity", won_deal(account, 2))
    app = app_for(org, f"sqlite:///{tmp_path / 'r.db'}")
    run_pull(app)
    org.hard_delete("Opportunity", gone)
    org.reset_stats()
    # The first object's Id query times out; the other is read as usual.
    org.fail_next(1, status=400, error_code="QUERY_TIMEOUT")

    report = reconcile(app)

    by_object = {m.sobject: m for m in report.mirror}
    assert by_object["Opportunity"].missing_in_salesforce == [gone]
    assert by_object["Account"].in_salesforce == 1
    assert by_object["Opportunity"].in_salesforce == 1
    with app.store.session() as session:
        assert session.get(Opportunity, gone).is_deleted  # type: ignore[union-attr]
        assert not session.get(Opportunity, kept).is_deleted  # type: ignore[union-attr]
    # The query that timed out, a Bulk job (create, poll, one results page),
    # and the other object's query.
    assert org.stats()["by_endpoint"] == {
        "GET query": 2,
        "POST bulk2": 1,
        "GET bulk2": 2,
    }


def test_a_second_reconcile_finds_nothing(org: LocalOrg, tmp_path: Path) -> None:
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    org.insert("Opportunity", won_deal(account, 1))
    app = app_for(org, f"sqlite:///{tmp_path / 'r.db'}")
    run_pull(app)
    reconcile(app)

    report = reconcile(app)

    assert all(
        not (m.missing_in_salesforce or m.drifted or m.missing_locally)
        for m in report.mirror
    )


def test_a_record_stored_while_reconcile_reads_salesforce_stays_alive(
    org: LocalOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case SC-09: a record that arrives mid-comparison is never marked deleted."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    org.insert("Opportunity", won_deal(account, 1))
    app = app_for(org, f"sqlite:///{tmp_path / 'r.db'}")
    run_pull(app)
    read_salesforce = reconcile_module._remote_stamps
    late: list[str] = []

    def read_then_store_a_new_record(app_: Any, sobject: str) -> Any:
        stamps = read_salesforce(app_, sobject)
        if sobject == "Opportunity":
            # Another writer creates and stores a record after Salesforce's
            # set was read: it is local, but not in that set.
            late.append(org.insert("Opportunity", won_deal(account, 2)))
            run_pull(app_)
        return stamps

    monkeypatch.setattr(
        reconcile_module, "_remote_stamps", read_then_store_a_new_record
    )

    reconcile(app, lock=False)

    with app.store.session() as session:
        stored = session.get(Opportunity, late[0])
        assert stored is not None
        assert not stored.is_deleted


def test_reconcile_refuses_to_run_beside_a_cycle(org: LocalOrg, tmp_path: Path) -> None:
    app = app_for(org, f"sqlite:///{tmp_path / 'r.db'}")
    app.store  # noqa: B018 - open (and migrate) the database first

    with job_lock(app.store, SYNC_LOCK), pytest.raises(ConflictError):
        reconcile(app)
