"""Loading data files, the state file and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from sfsync.localorg import LocalOrg
from sfsync.localorg.errors import StartupError
from tests.localorg.conftest import serve_until_it_exits, wire_fixture

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            "accounts.csv",
            "Id,Name\n001000000000001AAA,Acme\n",
            "not JSON (line 1 column 1",
            id="csv",
        ),
        pytest.param(
            "broken.json",
            '{"records": [\n  {"Name": "Acme",}\n]}',
            "not JSON (line 2 column 19",
            id="json-syntax-error",
        ),
        pytest.param(
            "answer.json", '{"totalSize": 1}', "no top-level 'records' list", id="dict"
        ),
        pytest.param("number.json", "42", "no top-level 'records' list", id="number"),
        pytest.param(
            "strings.json", '{"records": ["Acme"]}', "record 1 is str", id="string"
        ),
        pytest.param(
            "untyped.json",
            '{"records": [{"Name": "Acme"}]}',
            "record 1: record without attributes.type",
            id="untyped-record",
        ),
    ],
)
def test_load_file_that_holds_no_records_names_the_file_and_the_shape_expected(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(StartupError) as caught:
        LocalOrg(load_files=[path])

    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert 'REST query response ({"records": [...]}) or an SFDX data-tree' in message


def test_missing_load_file_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"

    with pytest.raises(StartupError) as caught:
        LocalOrg(load_files=[path])

    assert str(caught.value).startswith(f"{path}: no such file; expected a REST")


def test_record_with_an_unknown_field_points_at_the_metadata_option(
    tmp_path: Path,
) -> None:
    path = tmp_path / "accounts.json"
    record = {"attributes": {"type": "Account"}, "Name": "A", "Segment__c": "SMB"}
    path.write_text(json.dumps({"records": [record]}))

    with pytest.raises(StartupError) as caught:
        LocalOrg(load_files=[path])

    assert str(caught.value) == (
        f"{path}: record 1: Account.Segment__c is not a field of the org; if it is "
        "a custom field, start the org with its SFDX metadata (serve --metadata DIR)"
    )


def test_data_tree_plan_file_is_told_apart_from_a_data_file(tmp_path: Path) -> None:
    path = tmp_path / "Account-plan.json"
    plan = [{"sobject": "Account", "saveRefs": True, "files": ["Account.json"]}]
    path.write_text(json.dumps(plan))

    with pytest.raises(StartupError) as caught:
        LocalOrg(load_files=[path])

    assert str(caught.value) == (
        f"{path}: is a data-tree plan file; load the files it lists instead "
        "(Account.json)"
    )


def test_serve_with_a_csv_to_load_exits_with_one_line_naming_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("Id,Name\n")

    result = serve_until_it_exits("--load", str(path))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"localorg: {path}: not JSON (line 1 column 1: Expecting value); expected "
        'a REST query response ({"records": [...]}) or an SFDX data-tree file'
    ]


def test_demo_sample_data_file_loads_with_owners_and_accounts(tmp_path: Path) -> None:
    from sfsync.cli.demo import write_demo_data
    from sfsync.demo_data import make_demo_org

    path = tmp_path / "sample.json"
    data = make_demo_org(today=date(2024, 6, 3))

    write_demo_data(path, data)

    with LocalOrg.start(
        metadata_dirs=[ROOT / "config" / "salesforce"], load_files=[path]
    ) as org:
        sf = org.salesforce()
        won = sf.query_all(
            "SELECT Account.Name, Owner.LastName, Onboarding_Manager__c "
            "FROM Opportunity WHERE IsWon = true"
        )["records"]
        counts = (org.count("Account"), org.count("Opportunity"))
    assert counts == (len(data.accounts), len(data.opportunities))
    assert len(won) == sum(o["StageName"] == "Closed Won" for o in data.opportunities)
    assert all(r["Account"]["Name"] and r["Owner"]["LastName"] for r in won)
    assert sum(r["Onboarding_Manager__c"] is not None for r in won) == sum(
        "_manager" in o for o in data.opportunities
    )
