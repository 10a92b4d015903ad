"""Loading data files, the state file and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import requests

from sfsync.localorg import LocalOrg
from tests.localorg.conftest import wire_fixture


def test_query_response_file_loads_with_ids_and_parents(
    localorg: LocalOrg, tmp_path: Path
) -> None:
    body = wire_fixture("04-query/query-parent-relationship.json")["response"]["body"]
    path = tmp_path / "opps.json"
    path.write_text(json.dumps(body))

    with LocalOrg.start(load_files=[path]) as org:
        sf = org.salesforce()
        result = sf.query("SELECT Id, Account.Name FROM Opportunity ORDER BY Id")

    assert [r["Id"] for r in result["records"]] == sorted(
        r["Id"] for r in body["records"]
    )
    assert result["records"][0]["Account"]["Name"] == "Northwind Traders"


def test_data_tree_file_resolves_references_and_children(localorg: LocalOrg) -> None:
    tree = {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "AccRef"},
                "Name": "Acme",
                "Contacts": {
                    "records": [
                        {
                            "attributes": {"type": "Contact", "referenceId": "C1"},
                            "LastName": "Ari",
                        }
                    ]
                },
            },
            {
                "attributes": {"type": "Opportunity", "referenceId": "O1"},
                "Name": "Deal",
                "StageName": "Closed Won",
                "CloseDate": "2024-01-01",
                "AccountId": "@AccRef",
            },
        ]
    }

    loaded = localorg.load(tree["records"])

    sf = localorg.salesforce()
    deal = sf.query("SELECT Account.Name, IsWon FROM Opportunity")["records"][0]
    contact = sf.query("SELECT Account.Name FROM Contact")["records"][0]
    assert loaded == 3
    assert (deal["Account"]["Name"], deal["IsWon"]) == ("Acme", True)
    assert contact["Account"]["Name"] == "Acme"


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with LocalOrg.start(state_file=state) as org:
        record_id = org.salesforce().Account.create({"Name": "Kept"})["id"]

    with LocalOrg.start(state_file=state) as org:
        record = org.get("Account", record_id)

    assert record is not None
    assert record["Name"] == "Kept"


def test_load_records_stores_rows_without_api_calls(localorg: LocalOrg) -> None:
    localorg.load_records("Account", ({"Name": f"A{n}"} for n in range(20_000)))

    assert localorg.count("Account") == 20_000
    assert localorg.stats()["total"] == 0


def test_serve_subprocess_writes_env_file_and_answers_stats(tmp_path: Path) -> None:
    env_file = tmp_path / "org.env"
    process = subprocess.Popen(
        [sys.executable, "-m", "sfsync.localorg", "serve", "--env-file", str(env_file)],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not env_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        session = requests.Session()
        session.trust_env = False
        while time.monotonic() < deadline:
            try:
                session.get(
                    f"{env['SFSYNC_LOGIN_URL']}/services/data/",
                    verify=env["SFSYNC_CA_FILE"],
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                time.sleep(0.1)

        stats = subprocess.run(
            [
                sys.executable,
                "-m",
                "sfsync.localorg",
                "stats",
                "--env-file",
                str(env_file),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert list(env) == [
        "SFSYNC_LOGIN_URL",
        "SFSYNC_AUTH_FLOW",
        "SFSYNC_USERNAME",
        "SFSYNC_PASSWORD",
        "SFSYNC_SECURITY_TOKEN",
        "SFSYNC_CLIENT_ID",
        "SFSYNC_CLIENT_SECRET",
        "SFSYNC_CA_FILE",
        "SFSYNC_API_VERSION",
    ]
    assert env["SFSYNC_API_VERSION"] == "59.0"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert json.loads(stats.stdout)["total"] == 0
