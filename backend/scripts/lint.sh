#!/usr/bin/env bash
# Lint and type-check only.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
ensure_venv backend/requirements-dev.txt
"$VENV/bin/ruff" check backend
"$VENV/bin/ruff" format --check backend
"$VENV/bin/mypy" backend
