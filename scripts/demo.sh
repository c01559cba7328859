#!/usr/bin/env bash
# Quick start, command 1: set up (first run only) and run spa2v on its bundled examples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh core
exec .venv/bin/spa2v demo "$@"
