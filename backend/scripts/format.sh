#!/usr/bin/env bash
# Apply ruff's formatter and safe fixes.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
ensure_venv backend/requirements-dev.txt
"$VENV/bin/ruff" check --fix backend
"$VENV/bin/ruff" format backend
