#!/usr/bin/env bash
# Lint, type-check and security-lint backend/ (ruff, mypy --strict, bandit).
set -euo pipefail
source "$(dirname "$0")/_common.sh"
ensure_venv backend/requirements-dev.txt
"$VENV/bin/ruff" check backend
"$VENV/bin/ruff" format --check backend
"$VENV/bin/mypy" backend
# Medium severity and above fail; see backend/.bandit.yml for how a finding is explained.
"$VENV/bin/bandit" -c backend/.bandit.yml -r backend -ll -q
