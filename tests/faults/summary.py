"""The matrix's tally and the summary printed at the end of a test run.

Tests add to ``TALLY``; under pytest-xdist each worker hands its tally to
the controller when it finishes, and the controller prints the sum.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

import pytest

__all__ = ["TALLY", "Tally"]

_WORKER_KEY = "sfsync_fault_tally"
_printed = pytest.StashKey[bool]()


@dataclass
class Tally:
    """What the matrix did: the figures the README's reliability section quotes."""

    faults_injected: int = 0
    runs_recovered: int = 0
    runs_not_recovered: int = 0
    records_compared: int = 0
    differences: int = 0
    bad_inputs: int = 0
    clear_errors: int = 0
    unclear_errors: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def merge(self, other: dict[str, Any]) -> None:
        self.add(**{f.name: other.get(f.name, 0) for f in fields(self)})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def touched(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


TALLY = Tally()
# Workers already merged: the hooks may be registered twice (this module as a
# plugin, and re-exported by the conftest), and must count each worker once.
_MERGED: set[str] = set()


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_KEY] = TALLY.as_dict()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", None) or {}
    name = str(output.get("workerid", id(node)))
    if _WORKER_KEY in output and name not in _MERGED:
        _MERGED.add(name)
        TALLY.merge(output[_WORKER_KEY])


def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> None:
    if config.stash.get(_printed, False) or not TALLY.touched():
        return
    config.stash[_printed] = True
    t = TALLY
    write = terminalreporter.write_line
    terminalreporter.section("sfsync fault matrix")
    write(
        f"faults injected: {t.faults_injected}   runs recovered: {t.runs_recovered}"
        f"   not recovered: {t.runs_not_recovered}"
    )
    write(
        f"records compared: {t.records_compared}   differences found: {t.differences}"
    )
    write(
        f"bad inputs tried: {t.bad_inputs}   clear errors given: {t.clear_errors}"
        f"   unclear: {t.unclear_errors}"
    )
    write(f"matrix time (summed over tests): {t.seconds:.1f} s")
