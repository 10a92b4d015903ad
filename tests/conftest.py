"""Shared fixtures: a clean environment, and databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sfsync.store.db import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# The fault matrix's summary hook, loaded from here so that it runs whatever
# folder pytest starts from (xdist's controller reads only this conftest).
pytest_plugins = ["faults.summary"]

POSTGRES_ADMIN_URL = os.environ.get(
    "SFSYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full", action="store_true", help="run the slow, full fault matrix too"
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="part of the full matrix; run with --full")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may reach a real org or pick up a developer's settings."""
    for name in list(os.environ):
        if name.startswith("SFSYNC_") and name != "SFSYNC_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SFSYNC_CONFIG_DIR", str(ROOT / "config"))
    monkeypatch.setenv("SFSYNC_MAPPINGS_DIR", str(ROOT / "mappings"))
    monkeypatch.setenv("SFSYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SFSYNC_LOGIN_URL", "https://login.invalid")
    monkeypatch.setenv("SFSYNC_RETRY_INITIAL_WAIT_S", "0")
    monkeypatch.setenv("SFSYNC_RETRY_MAX_WAIT_S", "0")


@pytest.fixture
def host_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The host's time zone set to ``request.param`` (parametrise indirectly)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("the shared reference folder is not beside the project")
    return SHARED


def _admin_url() -> str:
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A database migrated to the newest schema once, copied for each test."""
    name = f"sfsync_tpl_{uuid.uuid4().hex[:10]}"
    base = _admin_url().rsplit("/", 1)[0]
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    open_store(f"{base}/{name}").dispose()
    yield name
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards.

    Copied from a migrated template: far faster than running the migrations
    for every test, and the same schema.
    """
    name = f"sfsync_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    base = _admin_url().rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sfsync.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    yield opened
    opened.dispose()
