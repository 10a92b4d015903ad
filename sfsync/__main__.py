"""`python -m sfsync`: the same as the `sfsync` command."""

from sfsync.cli.main import main

main()
