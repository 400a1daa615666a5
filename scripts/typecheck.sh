#!/usr/bin/env bash
# Strict static types over the application's code (settings: [tool.mypy] in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/mypy api service db cli
