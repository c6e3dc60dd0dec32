#!/usr/bin/env bash
# Lint, type-check and run the whole test suite with coverage (fails under 90%).
# Extra arguments go to pytest, e.g. ./backend/scripts/test.sh -m "not e2e and not deploy".
# TEST_DATABASE_URL picks PostgreSQL or MariaDB instead of a throwaway SQLite file.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
ensure_venv backend/requirements-dev.txt
# The browser, nginx and Redis-outage tests need Debian's chromium, nginx and redis-server.
ensure_apt chromium nginx redis-server
"$VENV/bin/ruff" check backend
"$VENV/bin/ruff" format --check backend
"$VENV/bin/mypy" backend
"$PY" -m pytest --cov=backend --cov-report=term --cov-fail-under=90 "$@"
