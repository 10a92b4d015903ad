#!/usr/bin/env bash
# Installs sfsync with its test dependencies, then runs the whole test suite.
# Arguments are passed to pytest (for example --full for the whole fault matrix).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e '.[test]'
exec python -m pytest -n 2 "$@"
