"""Run whole cycles in a child process, optionally killing itself at a chosen point.

Usage: ``python driver.py ENV_FILE BASE_ISO CYCLE [response|commit|ddl N]``.
ENV_FILE holds the org's SFSYNC_* settings and SFSYNC_DATABASE_URL. With a
kill point, the process sends itself SIGKILL after the N-th API response,
just before the N-th database commit, or after the N-th CREATE TABLE of the
first migration (``ddl N``), as a host failure would end it.
Exit status 0 when a cycle succeeded, 1 when it failed with an error.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faults.scenario import build_app, full_cycle
from sfsync.errors import SfsyncError


def _read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text("utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


def _die(*_args: Any, **_kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _counting(limit: int) -> Any:
    seen = [0]

    def hook(*_args: Any, **_kwargs: Any) -> None:
        seen[0] += 1
        if seen[0] >= limit:
            _die()

    return hook


def main(argv: list[str]) -> int:
    env = _read_env(Path(argv[0]))
    base = datetime.fromisoformat(argv[1])
    cycle = int(argv[2])
    database_url = env.pop("SFSYNC_DATABASE_URL")
    if len(argv) > 3 and argv[3] == "ddl":
        # On every engine, so that the store's first migration is covered.
        created = _counting(int(argv[4]))

        def on_ddl(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
            if sql.lstrip().upper().startswith("CREATE TABLE"):
                created()

        event.listen(Engine, "after_cursor_execute", on_ddl)
        argv = argv[:3]
    app = build_app(env, database_url, log_level="WARNING")
    if len(argv) > 3:
        mode, count = argv[3], int(argv[4])
        if mode == "response":
            app.client.http.hooks["response"].append(_counting(count))
        else:
            event.listen(app.store.engine, "commit", _counting(count))
    try:
        full_cycle(app, cycle=cycle, base=base)
    except SfsyncError as exc:
        print(f"cycle failed: {exc}", file=sys.stderr)
        return 1
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
