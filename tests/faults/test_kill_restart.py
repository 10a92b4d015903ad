"""A cycle killed at a random point and restarted loses and doubles nothing.

The org runs in the test process and outlives the child; the child reads its
settings (and the database URL) from an env file, as `sfsync --env-file`
does. Seeds choose the point: after the k-th API response, just before the
k-th database commit, or after a random delay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sfsync.localorg import LocalOrg

from .conftest import API_RESPONSES
from .matrix import secrets_of
from .scenario import (
    SMALL,
    build_app,
    differences,
    end_state,
    kill_plan,
    records_in,
    seed_org,
    settle,
)
from .summary import Tally

DRIVER = Path(__file__).with_name("driver.py")
QUICK_SEEDS = [0, 1, 2]
FULL_SEEDS = list(range(3, 20))
# The delay mode's window: a child needs about this long for a first cycle.
CYCLE_SECONDS = 6.0


def _start(env_file: Path, base: datetime, cycle: int, *kill: str) -> Any:
    return subprocess.Popen(
        [
            sys.executable,
            str(DRIVER),
            str(env_file),
            base.isoformat(),
            str(cycle),
            *kill,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _killed_then_restarted(
    fault_org: LocalOrg,
    baseline: Callable[..., Any],
    tally: Tally,
    tmp_path: Path,
    seed: int,
) -> None:
    expected = baseline()
    seeded = seed_org(fault_org, seed=7, opportunities=SMALL)
    database_url = f"sqlite:///{tmp_path / 'killed.db'}"
    env_file = tmp_path / "sfsync.env"
    fault_org.write_env_file(env_file)
    with env_file.open("a", encoding="utf-8") as handle:
        handle.write(f"SFSYNC_DATABASE_URL={database_url}\n")
    base = datetime.now(UTC)
    plan = kill_plan(seed, responses=API_RESPONSES[(7, SMALL)])

    if plan["mode"] == "delay":
        child = _start(env_file, base, 0)
        time.sleep(1.5 + plan["fraction"] * CYCLE_SECONDS)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
    else:
        child = _start(env_file, base, 0, plan["mode"], str(plan["count"]))
    _out, first_err = child.communicate(timeout=120)
    killed = child.returncode == -signal.SIGKILL
    restarts = []
    for cycle in range(1, 5):
        again = _start(env_file, base, cycle)
        out, err = again.communicate(timeout=120)
        restarts.append((again.returncode, out + err))
        if again.returncode == 0:
            break
    app = build_app(fault_org.env(), database_url)
    try:
        settle(app, base=base)
        actual = end_state(app, fault_org, seeded)
    finally:
        app.close()
    found = differences(expected, actual)
    recovered = restarts[-1][0] == 0
    tally.add(
        faults_injected=int(killed),
        runs_recovered=int(recovered),
        runs_not_recovered=int(not recovered),
        records_compared=records_in(expected),
        differences=len(found),
    )

    assert killed or plan["mode"] == "delay", f"no kill at {plan}: {first_err[-2000:]}"
    assert recovered, restarts[-1][1][-3000:]
    leaked = [s for s in secrets_of(fault_org) if any(s in o for _c, o in restarts)]
    assert leaked == []
    assert found == [], f"{plan}\n" + "\n".join(found[:20])


@pytest.mark.parametrize("seed", QUICK_SEEDS, ids=[f"seed-{s}" for s in QUICK_SEEDS])
def test_a_cycle_killed_and_restarted_ends_as_if_never_killed(
    fault_org: LocalOrg,
    baseline: Callable[..., Any],
    tally: Tally,
    tmp_path: Path,
    seed: int,
) -> None:
    _killed_then_restarted(fault_org, baseline, tally, tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", FULL_SEEDS, ids=[f"seed-{s}" for s in FULL_SEEDS])
def test_a_cycle_killed_at_any_seeded_point_ends_as_if_never_killed(
    fault_org: LocalOrg,
    baseline: Callable[..., Any],
    tally: Tally,
    tmp_path: Path,
    seed: int,
) -> None:
    _killed_then_restarted(fault_org, baseline, tally, tmp_path, seed)


def test_a_process_killed_during_its_first_migration_starts_again(
    fault_org: LocalOrg, tmp_path: Path
) -> None:
    seed_org(fault_org, seed=7, opportunities=SMALL)
    database_url = f"sqlite:///{tmp_path / 'half.db'}"
    env_file = tmp_path / "sfsync.env"
    fault_org.write_env_file(env_file)
    with env_file.open("a", encoding="utf-8") as handle:
        handle.write(f"SFSYNC_DATABASE_URL={database_url}\n")
    base = datetime.now(UTC)
    killed = _start(env_file, base, 0, "ddl", "2")
    killed.communicate(timeout=120)

    again = _start(env_file, base, 1)
    out, err = again.communicate(timeout=120)

    assert killed.returncode == -signal.SIGKILL
    assert again.returncode == 0, (out + err)[-2000:]
