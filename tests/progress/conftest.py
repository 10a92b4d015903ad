"""A project to record progress on, made by the real handoff."""

from __future__ import annotations

import pytest

from sfsync.store.db import Store

from .seeding import make_project


@pytest.fixture
def project_id(store: Store) -> int:
    return make_project(store)
