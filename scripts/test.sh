#!/usr/bin/env bash
# The whole suite on SQLite and PostgreSQL. Without TEST_DATABASE_URL, a throwaway PostgreSQL
# cluster is started when the server binaries exist (scripts/pg-throwaway.sh) and stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TEST_DATABASE_URL:-}" ]; then
    if pgdir=$(mktemp -d /tmp/registry-pg.XXXXXX) && url=$(scripts/pg-throwaway.sh start "$pgdir"); then
        trap 'scripts/pg-throwaway.sh stop "$pgdir"' EXIT
        export TEST_DATABASE_URL=$url
        echo "test.sh: PostgreSQL cluster at ${url}" >&2
    else
        rmdir "$pgdir" 2>/dev/null || true
        echo "test.sh: no PostgreSQL server here; PostgreSQL tests will be skipped" >&2
    fi
fi

scripts/ensure-browser.sh
scripts/ensure-pdf.sh
.venv/bin/ruff check api service db cli migrations tests
scripts/typecheck.sh
# Two workers: much of the suite waits on servers, subprocesses and databases rather than the CPU.
.venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" "$@"
