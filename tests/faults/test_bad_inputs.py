"""Bad inputs: each gives an error that names where it is and what to do, no secrets."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from sfsync.cli.main import main
from sfsync.errors import DescribeMismatchError
from sfsync.localorg import LocalOrg
from sfsync.store.models import Account, Opportunity, Project, ProjectTask

from .matrix import secrets_of
from .scenario import ROOT, TODAY, build_app, full_cycle, seed_org
from .summary import Tally


@dataclass
class Workspace:
    """A copy of the shipped config and mappings, to break one file of."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def mappings(self) -> Path:
        return self.root / "mappings"

    def edit(self, relative: str, change: Callable[[str], str]) -> Path:
        path = self.root / relative
        before = path.read_text("utf-8")
        after = change(before)
        assert after != before, f"the edit of {relative} changed nothing"
        path.write_text(after, "utf-8")
        return path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    return Workspace(tmp_path)


def run_cli(
    org: LocalOrg,
    space: Workspace,
    *args: str,
    env: dict[str, str | None] | None = None,
) -> tuple[int, str]:
    """Run ``sfsync --env-file F ARGS`` in-process; the exit code and all output."""
    values: dict[str, str | None] = dict(org.env())
    values.update(
        SFSYNC_DATABASE_URL=f"sqlite:///{space.root / 'cli.db'}",
        SFSYNC_CONFIG_DIR=str(space.config),
        SFSYNC_MAPPINGS_DIR=str(space.mappings),
        SFSYNC_STATE_DIR=str(space.root / "state"),
        SFSYNC_LOG_LEVEL="WARNING",
    )
    values.update(env or {})
    env_file = space.root / "sfsync.env"
    env_file.write_text(
        "".join(f"{k}={v}\n" for k, v in values.items() if v is not None), "utf-8"
    )
    captured = io.StringIO()
    argv = sys.argv
    sys.argv = ["sfsync", "--env-file", str(env_file), *args]
    code = 0
    # Variables outrank the env file, and the test environment sets some.
    saved = {k: os.environ.get(k) for k in values}
    for key, _value in values.items():
        os.environ.pop(key, None)
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
        for key, old in saved.items():
            if old is not None:
                os.environ[key] = old
    return code, captured.getvalue()


def one_line(text: str) -> str:
    """Terminal output without whitespace: the console wraps even inside words."""
    return re.sub(r"\s+", "", text)


def assert_clear(
    tally: Tally,
    org: LocalOrg,
    code: int,
    output: str,
    expected: list[str],
    *,
    hint: bool = True,
) -> None:
    text = one_line(output)
    secrets = [s for s in secrets_of(org) if s in output]
    missing = [e for e in expected if one_line(e) not in text]
    clear = (
        code != 0 and not missing and not secrets and ("whattodo:" in text or not hint)
    )
    tally.add(bad_inputs=1, clear_errors=int(clear), unclear_errors=int(not clear))
    assert secrets == [], "a secret appears in the output"
    assert code != 0, text[-2000:]
    assert missing == [], text[-2000:]
    if hint:
        assert "whattodo:" in text, output[-2000:]


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


def test_malformed_playbook_yaml_names_file_line_and_what_to_do(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    path = workspace.edit(
        "config/playbooks/enterprise.yaml",
        lambda _t: "key: enterprise\nphases: [\n  - id: x\n",
    )

    code, output = run_cli(fault_org, workspace, "sync")

    assert_clear(tally, fault_org, code, output, [f"{path}:3: YAML syntax"])


def test_malformed_mapping_yaml_names_file_line_and_what_to_do(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    path = workspace.edit("mappings/account.yaml", _append("\nfields: [oops\n"))

    code, output = run_cli(fault_org, workspace, "check")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [f"{path}:", "YAML syntax error", "what to do: fix the YAML at that line"],
    )


def test_an_unknown_key_in_a_playbook_is_named_with_the_allowed_keys(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    path = workspace.edit(
        "config/playbooks/self-serve.yaml", _append("\ncolour: blue\n")
    )

    code, output = run_cli(fault_org, workspace, "sync")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [f"{path}:", "unknown key 'colour'; allowed keys are key, name, version"],
        hint=False,
    )


def test_an_unknown_key_in_a_mapping_is_named_with_the_allowed_keys(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    path = workspace.edit("mappings/account.yaml", _append("\nfrobnicate: true\n"))

    code, output = run_cli(fault_org, workspace, "check")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [
            f"{path}:22: unknown key 'frobnicate'",
            "what to do: the keys are sobject, fields and description",
        ],
    )


def test_a_dependency_cycle_in_a_playbook_names_the_tasks_in_it(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    path = workspace.edit(
        "config/playbooks/self-serve.yaml",
        lambda t: t.replace(
            "duration: 1\n      - id: send_welcome_pack",
            "duration: 1\n        depends_on: [send_welcome_pack]\n"
            "      - id: send_welcome_pack",
            1,
        ),
    )

    code, output = run_cli(fault_org, workspace, "sync")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [f"{path}:", "dependency cycle:", "review_handoff", "send_welcome_pack"],
        hint=False,
    )


def test_a_mapping_to_a_field_the_org_lacks_stops_before_anything_is_written(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    """Cases SC-11, SC-12."""
    fault_org.reset()
    path = workspace.edit(
        "mappings/opportunity.yaml",
        _append("  extra.region: {field: Region__c, kind: text}\n"),
    )

    code, output = run_cli(fault_org, workspace, "sync")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [
            f"{path}:24: Opportunity.Region__c (column 'extra.region') is missing "
            "or not visible to the integration user",
            "what to do: deploy the fields (`sfsync metadata export DIR`)",
        ],
    )


def test_a_push_mapping_to_a_read_only_field_names_object_and_field(
    fault_org: LocalOrg, tally: Tally, tmp_path: Path
) -> None:
    """Case SC-12: a pushed field must be updateable by the integration user."""
    seeded = seed_org(fault_org, opportunities=20)
    fault_org.set_read_only("Opportunity", "Onboarding_Health_Reason__c")
    app = build_app(fault_org.env(), f"sqlite:///{tmp_path / 'ro.db'}")

    try:
        with pytest.raises(DescribeMismatchError) as raised:
            full_cycle(app, cycle=0)
    finally:
        app.close()
        fault_org.reset()

    text = str(raised.value)
    clear = (
        "Opportunity.Onboarding_Health_Reason__c is not updateable" in text
        and raised.value.hint is not None
    )
    tally.add(bad_inputs=1, clear_errors=int(clear), unclear_errors=int(not clear))
    assert seeded.opportunities == 20
    assert "Opportunity.Onboarding_Health_Reason__c is not updateable" in text
    assert "push.yaml" in text
    assert raised.value.hint


def test_a_push_mapping_to_a_field_of_another_type_names_object_and_field(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally, tmp_path: Path
) -> None:
    """A text value mapped onto a date field stops before anything is written."""
    seed_org(fault_org, opportunities=20)
    workspace.edit(
        "mappings/push.yaml",
        lambda t: t.replace("Onboarding_Health_Reason__c:", "CloseDate:", 1),
    )
    app = build_app(
        fault_org.env(),
        f"sqlite:///{tmp_path / 'type.db'}",
        mappings_dir=str(workspace.mappings),
    )

    try:
        with pytest.raises(DescribeMismatchError) as raised:
            full_cycle(app, cycle=0)
    finally:
        app.close()

    text = str(raised.value)
    clear = "Opportunity.CloseDate" in text and raised.value.hint is not None
    tally.add(bad_inputs=1, clear_errors=int(clear), unclear_errors=int(not clear))
    assert "Opportunity.CloseDate" in text
    assert "push.yaml" in text
    assert fault_org.stats()["writes"] == 0


@pytest.mark.parametrize(
    ("env", "expected", "exit_code"),
    [
        pytest.param(
            {"SFSYNC_PASSWORD": None},
            ["the password login needs SFSYNC_PASSWORD, which is not set"],
            2,
            id="missing-password",
        ),
        pytest.param(
            {"SFSYNC_PASSWORD": "Wrong-Pa55word"},
            ["login refused by", "(password flow): invalid_grant"],
            5,
            id="wrong-password",
        ),
        pytest.param(
            {"SFSYNC_AUTH_FLOW": "client_credentials", "SFSYNC_CLIENT_SECRET": "nope"},
            ["login refused by", "client_credentials"],
            5,
            id="wrong-client-secret",
        ),
        pytest.param(
            {"SFSYNC_AUTH_FLOW": "jwt", "SFSYNC_PRIVATE_KEY_FILE": "{root}/key.pem"},
            ["the JWT private key {root}/key.pem is not a usable RSA key"],
            None,
            id="unreadable-private-key",
        ),
        pytest.param(
            {"SFSYNC_AUTH_FLOW": "jwt", "SFSYNC_PRIVATE_KEY_FILE": "{root}/gone.pem"},
            ["cannot read the JWT private key {root}/gone.pem"],
            None,
            id="missing-private-key",
        ),
    ],
)
def test_bad_credentials_are_named_without_showing_any_secret(
    fault_org: LocalOrg,
    workspace: Workspace,
    tally: Tally,
    env: dict[str, str | None],
    expected: list[str],
    exit_code: int | None,
) -> None:
    fault_org.reset()
    (workspace.root / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\nno\n")
    root = str(workspace.root)
    env = {k: v.replace("{root}", root) if v else v for k, v in env.items()}

    code, output = run_cli(fault_org, workspace, "check", env=env)

    assert_clear(
        tally, fault_org, code, output, [e.replace("{root}", root) for e in expected]
    )
    if exit_code is not None:
        assert code == exit_code


def test_a_secret_in_the_settings_file_is_refused_without_showing_it(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    token = fault_org.env()["SFSYNC_SECURITY_TOKEN"]
    path = workspace.edit(
        "config/sfsync.toml",
        lambda text: text.replace(
            'api_version = "59.0"\n',
            f'api_version = "59.0"\nsecurity_token = "{token}"\n',
        ),
    )
    line = path.read_text("utf-8").splitlines().index(f'security_token = "{token}"')

    code, output = run_cli(fault_org, workspace, "check")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [
            f"{path}:{line + 1}: security_token is or holds a secret",
            "set SFSYNC_SECURITY_TOKEN in the environment or in the env file",
        ],
    )


def test_an_unknown_key_in_the_settings_file_suggests_the_near_one(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    path = workspace.edit(
        "config/sfsync.toml",
        lambda text: text.replace(
            "request_timeout_s = 30.0\n", "request_timout_s = 30.0\n"
        ),
    )
    line = path.read_text("utf-8").splitlines().index("request_timout_s = 30.0")

    code, output = run_cli(fault_org, workspace, "check")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [
            f"{path}:{line + 1}: unknown setting 'request_timout_s' "
            "(did you mean 'request_timeout_s'?)"
        ],
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            {"SFSYNC_LOGIN_URL": "127.0.0.1:40537"},
            ["SFSYNC_LOGIN_URL: login_url must be an https:// URL with a host"],
            id="login-url-without-https",
        ),
        pytest.param(
            {"SFSYNC_DATABASE_URL": "mysql://x/y"},
            ["SFSYNC_DATABASE_URL: database_url 'mysql://x/y' is not a database"],
            id="unsupported-database",
        ),
        pytest.param(
            {"SFSYNC_REQEST_TIMEOUT_S": "3"},
            [
                "unknown setting SFSYNC_REQEST_TIMEOUT_S "
                "(did you mean 'SFSYNC_REQUEST_TIMEOUT_S'?)"
            ],
            id="unknown-variable",
        ),
        pytest.param(
            {"this line is": "broken"}, ["not a NAME=value line"], id="malformed-line"
        ),
    ],
)
def test_a_bad_env_file_line_is_named_with_file_and_line(
    fault_org: LocalOrg,
    workspace: Workspace,
    tally: Tally,
    env: dict[str, str | None],
    expected: list[str],
) -> None:
    fault_org.reset()
    env_file = workspace.root / "sfsync.env"

    code, output = run_cli(fault_org, workspace, "check", env=env)

    assert_clear(tally, fault_org, code, output, [f"{env_file}:", *expected])
    assert code == 2
    assert "could not parse" not in output


def test_a_handoff_rule_naming_an_unknown_field_suggests_the_near_one(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally
) -> None:
    fault_org.reset()
    path = workspace.edit(
        "mappings/handoff.yaml",
        lambda t: t.replace("opportunity.Amount, gte", "opportunity.Amount__x, gte", 1),
    )

    code, output = run_cli(fault_org, workspace, "sync")

    assert_clear(
        tally,
        fault_org,
        code,
        output,
        [
            f"{path}:21: unknown field 'opportunity.Amount__x'",
            "add it to mappings/opportunity.yaml or fix the rule (did you mean "
            "'Amount'?)",
        ],
        hint=False,
    )


def test_records_with_nulls_and_long_non_ascii_names_sync_intact(
    fault_org: LocalOrg, tally: Tally, tmp_path: Path
) -> None:
    """Case SC-16: non-Latin text; won deals with values missing still hand off."""
    fault_org.reset()
    long_name = ("Łódź Škoda Ærø Müller 東京 " * 12)[:255]
    [account] = fault_org.load_records(
        "Account", [{"Name": long_name, "NumberOfEmployees": 40}]
    )
    won = {"StageName": "Closed Won", "IsWon": True, "IsClosed": True}
    opportunities = fault_org.load_records(
        "Opportunity",
        [
            {
                **won,
                "Name": long_name,
                "AccountId": account,
                "CloseDate": "2025-05-01",
                "Amount": None,
            },
            {
                **won,
                "Name": "No account",
                "AccountId": None,
                "CloseDate": "2025-05-02",
                "Amount": 20000,
            },
            {
                **won,
                "Name": "No close date",
                "AccountId": account,
                "CloseDate": None,
                "Amount": 50000,
            },
        ],
    )
    app = build_app(fault_org.env(), f"sqlite:///{tmp_path / 'nulls.db'}")

    try:
        full_cycle(app, cycle=0)
        with app.store.session() as session:
            projects = {p.opportunity_id: p for p in session.exec(select(Project))}
            stored = session.get(Opportunity, opportunities[0])
            stored_account = session.get(Account, account)
    finally:
        app.close()

    tally.add(bad_inputs=3)
    assert set(projects) == set(opportunities)
    assert stored is not None
    assert stored.name == long_name
    assert stored_account is not None
    assert stored_account.name == long_name
    assert projects[opportunities[2]].handoff_date == TODAY
    assert projects[opportunities[0]].name == long_name
    held = fault_org.get("Opportunity", opportunities[0]) or {}
    assert held.get("Onboarding_Status__c") is not None
    tally.add(clear_errors=3)


def test_a_progress_csv_with_broken_rows_names_each_line_and_keeps_good_rows(
    fault_org: LocalOrg, workspace: Workspace, tally: Tally, tmp_path: Path
) -> None:
    """Case SC-16: UTF-8 with non-Latin notes; broken rows named by line."""
    seed_org(fault_org, opportunities=20)
    code, output = run_cli(fault_org, workspace, "sync")
    assert code == 0, output[-2000:]
    app = build_app(fault_org.env(), f"sqlite:///{workspace.root / 'cli.db'}")
    with app.store.session() as session:
        task = session.exec(select(ProjectTask)).first()
    app.close()
    assert task is not None
    pid, key = task.project_id, task.task_key
    csv_file = tmp_path / "progress.csv"
    csv_file.write_text(
        "project_id,task_key,status,date,note\n"
        f"{pid},{key},done,2025-05-20,Łódź: kickoff done\n"
        f"{pid},no_such_task,done,2025-05-20,\n"
        f"{pid},{key},done,20-05-2025,\n"
        f"{pid},{key},done,2025-05-20,a,b,c\n"
        f"not-a-number,{key},done,,\n",
        encoding="utf-8",
    )

    code, output = run_cli(
        fault_org, workspace, "progress", "import", str(csv_file), "--format", "json"
    )

    report = json.loads(output[output.index('{\n  "path"') :])
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    expected = {
        3: "no task 'no_such_task'",
        4: "date '20-05-2025' is not YYYY-MM-DD",
        5: "7 values for 5 columns",
        6: "project_id 'not-a-number' is not a number",
    }
    clear = [n for n, text in expected.items() if text in reasons.get(n, "")]
    tally.add(
        bad_inputs=len(expected),
        clear_errors=len(clear),
        unclear_errors=len(expected) - len(clear),
    )
    assert code == 1
    assert report["applied"] == 1
    assert sorted(clear) == sorted(expected), reasons
