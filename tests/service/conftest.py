"""Shared fixtures for the service tests: a local org with the pushed fields."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sfsync.app import App
from sfsync.localorg import LocalOrg
from sfsync.push.metadata import deployable_metadata
from sfsync.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def service_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOrg]:
    """One org for the service tests (reset by ``org``), with every custom field."""
    metadata = deployable_metadata(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        workdir=tmp_path_factory.mktemp("metadata"),
    )
    with LocalOrg.start(metadata_dirs=metadata) as org:
        yield org


@pytest.fixture
def org(service_org: LocalOrg) -> LocalOrg:
    service_org.reset()
    return service_org


def settings_for(org: LocalOrg, database_url: str, **extra: Any) -> Settings:
    overrides: dict[str, Any] = {
        k.removeprefix("SFSYNC_").lower(): v for k, v in org.env().items()
    }
    overrides.update(database_url=database_url, **extra)
    return load_settings(**overrides)


def app_for(org: LocalOrg, database_url: str, **extra: Any) -> App:
    return App(settings_for(org, database_url, **extra))


def subprocess_env(
    org: LocalOrg, database_url: str, state_dir: Path, **extra: str
) -> dict[str, str]:
    """The environment of an `sfsync` child process talking to ``org``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SFSYNC_") or k == "SFSYNC_TEST_POSTGRES_URL"
    }
    env.update(org.env())
    env.update(
        SFSYNC_DATABASE_URL=database_url,
        SFSYNC_STATE_DIR=str(state_dir),
        SFSYNC_MAPPINGS_DIR=str(ROOT / "mappings"),
        SFSYNC_CONFIG_DIR=str(ROOT / "config"),
        SFSYNC_LOG_FORMAT="json",
        SFSYNC_RETRY_INITIAL_WAIT_S="0",
        SFSYNC_RETRY_MAX_WAIT_S="0",
    )
    env.update(extra)
    return env


def config_with_schedule(tmp_path: Path, schedule: dict[str, str]) -> Path:
    """A copy of the shipped config folder with a ``[schedule]`` table."""
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    lines = ["[schedule]"] + [f'{k} = "{v}"' for k, v in schedule.items()]
    (target / "schedule.toml").write_text("\n".join(lines) + "\n", "utf-8")
    return target


def won_deal(account_id: str, n: int, close: str = "2024-05-02") -> dict[str, Any]:
    return {
        "Name": f"Deal {n}",
        "AccountId": account_id,
        "StageName": "Closed Won",
        "CloseDate": close,
        "Amount": 50000,
        "Type": "New Customer",
    }
