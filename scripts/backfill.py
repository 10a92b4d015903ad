"""Backfill a range of historical opportunities: `sfsync backfill` as a script."""

from __future__ import annotations

import sys

from sfsync.cli.main import main

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "backfill", *sys.argv[1:]]
    main()
