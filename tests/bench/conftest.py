"""A small benchmark configuration: an org with sfsync's fields and apps on it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# benchmarks/ sits beside the sfsync package and is not installed with it.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import scenarios  # noqa: E402
from sfsync.app import App  # noqa: E402
from sfsync.localorg import LocalOrg  # noqa: E402
from sfsync.settings import load_settings  # noqa: E402


@pytest.fixture(scope="module")
def bench_org_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOrg]:
    dirs = scenarios.metadata_dirs(tmp_path_factory.mktemp("bench-metadata"))
    with LocalOrg.start(metadata_dirs=dirs, daily_limit=10_000_000) as org:
        yield org


@pytest.fixture
def bench_org(bench_org_server: LocalOrg) -> LocalOrg:
    bench_org_server.reset()
    return bench_org_server


@pytest.fixture
def make_bench_app(tmp_path: Path) -> Iterator[Callable[[LocalOrg], App]]:
    made: list[App] = []

    def build(org: LocalOrg) -> App:
        values: dict[str, Any] = {
            k.removeprefix("SFSYNC_").lower(): v for k, v in org.env().items()
        }
        values["database_url"] = f"sqlite:///{tmp_path / 'bench.db'}"
        app = App(load_settings(**values))
        made.append(app)
        return app

    yield build
    for app in made:
        app.close()
