#!/usr/bin/env bash
# Lint (backend/scripts/lint.sh), then the whole test suite with coverage (fails under 90%).
# Extra arguments go to pytest, e.g. ./backend/scripts/test.sh -m "not e2e and not deploy".
# --skip-lint, as the first argument, leaves the lint out: CI lints once, then runs the
# suite on each database.
# TEST_DATABASE_URL picks PostgreSQL or MariaDB instead of a throwaway SQLite file.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
if [ "${1:-}" = "--skip-lint" ]; then
  shift
else
  backend/scripts/lint.sh
fi
ensure_venv backend/requirements-dev.txt
# The browser, nginx and Redis-outage tests need Debian's chromium, nginx and redis-server.
ensure_apt chromium nginx redis-server
"$PY" -m pytest --cov=backend --cov-report=term --cov-fail-under=90 "$@"
