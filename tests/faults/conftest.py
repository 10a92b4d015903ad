"""Fixtures of the fault matrix: one local org per worker, baselines, the tally."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sfsync.app import App
from sfsync.localorg import LocalOrg
from sfsync.push.metadata import deployable_metadata

from .scenario import ROOT, SMALL, Seeded, build_app, end_state, seed_org, settle
from .summary import (
    TALLY,
    Tally,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)

__all__ = [
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
]

State = dict[str, dict[str, Any]]
# API responses in a data set's first fault-free cycle (login included), so
# that a kill after the k-th response always lands inside a cycle.
API_RESPONSES: dict[tuple[int, int], int] = {}


def org_metadata_dirs(tmp: Path) -> list[Path]:
    """The pulled custom fields and the pushed ones, as an admin deploys them."""
    return deployable_metadata(
        config_dir=ROOT / "config", mappings_dir=ROOT / "mappings", workdir=tmp
    )


@pytest.fixture(scope="session")
def fault_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOrg]:
    metadata = org_metadata_dirs(tmp_path_factory.mktemp("fault-metadata"))
    with LocalOrg.start(metadata_dirs=metadata, daily_limit=10_000_000) as org:
        yield org


@pytest.fixture
def tally() -> Iterator[Tally]:
    started = time.perf_counter()
    yield TALLY
    TALLY.add(seconds=time.perf_counter() - started)


@pytest.fixture(scope="session")
def _baselines() -> dict[tuple[Any, ...], State]:
    return {}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fault.db'}"


@pytest.fixture
def apps() -> Iterator[Callable[..., App]]:
    """Build apps against the fault org; each is closed after the test."""
    made: list[App] = []

    def build(org: LocalOrg, database_url: str, **overrides: Any) -> App:
        app = build_app(org.env(), database_url, **overrides)
        made.append(app)
        return app

    yield build
    for app in made:
        app.close()


@pytest.fixture
def baseline(
    fault_org: LocalOrg,
    _baselines: dict[tuple[Any, ...], State],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., State]:
    """The fault-free end state of a data set, computed once per worker."""

    def compute(*, seed: int = 7, opportunities: int = SMALL) -> State:
        key = (seed, opportunities)
        if key not in _baselines:
            seeded = seed_org(fault_org, seed=seed, opportunities=opportunities)
            folder = tmp_path_factory.mktemp("baseline")
            app = build_app(fault_org.env(), f"sqlite:///{folder / 'base.db'}")
            responses: list[int] = []
            app.client.http.hooks["response"].append(
                lambda *_a, **_k: responses.append(1)
            )
            try:
                base = datetime.now(UTC)
                settle(app, base=base, cycle=0)
                first_cycle = len(responses)
                settle(app, base=base)
                _baselines[key] = end_state(app, fault_org, seeded)
                API_RESPONSES[key] = first_cycle
            finally:
                app.close()
        return _baselines[key]

    return compute


@pytest.fixture
def seeded_org(fault_org: LocalOrg) -> Callable[..., Seeded]:
    def load(*, seed: int = 7, opportunities: int = SMALL) -> Seeded:
        return seed_org(fault_org, seed=seed, opportunities=opportunities)

    return load
