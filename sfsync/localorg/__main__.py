"""Runs the localorg command line: ``python -m sfsync.localorg serve``."""

from sfsync.localorg.cli import app

app(prog_name="localorg")
