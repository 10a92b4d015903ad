"""Reconcile the mirror and the pushed fields with Salesforce: `sfsync reconcile`."""

from __future__ import annotations

import sys

from sfsync.cli.main import main

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "reconcile", *sys.argv[1:]]
    main()
