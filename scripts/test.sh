#!/usr/bin/env bash
# Quick start, command 2: set up (first run only), run the linter, the type checker and the
# test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy  # the package's types (configured in pyproject.toml)
exec .venv/bin/python -m pytest "$@"
