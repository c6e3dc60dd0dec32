#!/usr/bin/env bash
# Start the app for development on http://127.0.0.1:8000 with SQLite (backend/database/local.db).
set -euo pipefail
source "$(dirname "$0")/_common.sh"
ensure_venv backend/requirements.txt
"$VENV/bin/alembic" upgrade head
exec "$PY" -m uvicorn backend.main:app --host 127.0.0.1 --port "${PORT:-8000}" \
  --loop asyncio --no-proxy-headers --no-access-log --ws-per-message-deflate false "$@"
