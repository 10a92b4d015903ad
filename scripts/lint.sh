#!/usr/bin/env bash
# The lint gate: formatting, lint rules and types. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e '.[lint]'
python -m ruff format --check sfsync jobs scripts tests benchmarks
python -m ruff check sfsync jobs scripts tests benchmarks
python -m mypy sfsync
