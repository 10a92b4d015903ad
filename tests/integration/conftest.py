"""An org with sfsync's custom fields, and apps connected to it over HTTPS."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sfsync.app import App
from sfsync.localorg import LocalOrg
from sfsync.push.metadata import deployable_metadata
from sfsync.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def org_metadata_dirs(tmp: Path) -> list[Path]:
    """What an admin deploys: the pulled custom fields and the pushed ones."""
    return deployable_metadata(
        config_dir=ROOT / "config", mappings_dir=ROOT / "mappings", workdir=tmp
    )


@pytest.fixture(scope="session")
def org_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOrg]:
    metadata = org_metadata_dirs(tmp_path_factory.mktemp("metadata"))
    with LocalOrg.start(metadata_dirs=metadata, daily_limit=10_000_000) as org:
        yield org


@pytest.fixture
def org(org_server: LocalOrg) -> LocalOrg:
    org_server.reset()
    return org_server


@pytest.fixture
def pull_only_mappings(tmp_path: Path) -> Path:
    """The shipped pull mappings without the push: for tests of the pull alone."""
    target = tmp_path / "mappings"
    target.mkdir()
    for name in ("account.yaml", "opportunity.yaml", "handoff.yaml"):
        shutil.copy(ROOT / "mappings" / name, target / name)
    return target


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    """Build apps connected to an org; each is closed after the test."""
    made: list[App] = []

    def build(org: LocalOrg, **overrides: Any) -> App:
        values: dict[str, Any] = {
            k.removeprefix("SFSYNC_").lower(): v for k, v in org.env().items()
        }
        values.setdefault("database_url", f"sqlite:///{tmp_path / 'sfsync.db'}")
        values.update(overrides)
        app = App(load_settings(**values))
        made.append(app)
        return app

    yield build
    for app in made:
        app.close()
