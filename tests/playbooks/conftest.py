"""Fixtures that write small playbooks and rule files for the tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .samples import WriteFile


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write dedented text to a file under tmp_path and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
