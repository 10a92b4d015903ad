"""Running the `sfsync` command in a child process, as a user would."""

from __future__ import annotations

import subprocess
import sys

CLI_TIMEOUT_S = 120


def run_sfsync(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m sfsync ARGS``: its exit code and output, never raising on failure."""
    return subprocess.run(
        [sys.executable, "-m", "sfsync", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
