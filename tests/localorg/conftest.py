"""Shared fixtures for the local org tests: the org itself and the wire fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from sfsync.localorg import LocalOrg
from sfsync.localorg.testing import (  # noqa: F401 - fixtures used by the tests
    localorg,
    localorg_client,
    localorg_server,
)

FIXTURES = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "salesforce"
)


def wire_fixture(relative: str) -> Any:
    """Load one reference file, skipping the test when the set is absent."""
    path = FIXTURES / relative
    if not path.exists():
        pytest.skip(f"wire fixture {relative} is not available")
    if path.suffix == ".json":
        return json.loads(path.read_text("utf-8"))
    return path.read_text("utf-8")


class Raw:
    """Plain HTTPS calls with a valid session, for shapes a client hides."""

    def __init__(self, org: LocalOrg) -> None:
        self.org = org
        self.session = org.requests_session()
        self.session.headers["Authorization"] = f"Bearer {org.new_session()}"
        self.base = f"{org.base_url}/services/data/v59.0/"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)


@pytest.fixture
def raw(localorg: LocalOrg) -> Raw:  # noqa: F811 - the imported fixture, requested
    return Raw(localorg)


def serve_until_it_exits(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``localorg serve`` expecting it to refuse to start.

    A serve that starts anyway is killed after a minute and fails the test.
    """
    return subprocess.run(
        [sys.executable, "-m", "sfsync.localorg", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
