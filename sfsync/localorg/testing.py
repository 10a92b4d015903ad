"""Pytest fixtures that give a test a running, freshly reset local org.

Use from another test package with ``pytest_plugins = ["sfsync.localorg.testing"]``.
One org serves the whole test session and is reset before each test, which
keeps a test run fast (starting an org generates keys and certificates).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sfsync.localorg.server import LocalOrg

__all__ = ["localorg", "localorg_client", "localorg_server"]


@pytest.fixture(scope="session")
def localorg_server() -> Iterator[LocalOrg]:
    """The session's running org (not reset; prefer ``localorg``)."""
    with LocalOrg.start() as org:
        yield org


@pytest.fixture
def localorg(localorg_server: LocalOrg) -> LocalOrg:
    """A running org with no data but the integration user, counters at zero."""
    localorg_server.reset()
    return localorg_server


@pytest.fixture
def localorg_client(localorg: LocalOrg) -> Any:
    """An unmodified simple-salesforce client logged in to ``localorg``."""
    return localorg.salesforce()
