#!/usr/bin/env bash
# The production server: several uvicorn workers behind the load balancer (nginx).
#
#   HOST, PORT               where to listen (0.0.0.0:8000)
#   WEB_CONCURRENCY          workers (2 x the CPUs this process may use)
#   GRACEFUL_TIMEOUT         seconds in-flight requests get after SIGTERM (20)
#   KEEP_ALIVE_TIMEOUT       idle keep-alive seconds; above nginx's upstream keepalive_timeout (75)
#   PROMETHEUS_MULTIPROC_DIR where the workers' metric files go (a per-port directory in $TMPDIR)
#
# Everything else (DATABASE_URL, FORWARDED_ALLOW_IPS, ...) is read by the app's settings.
set -euo pipefail
cd "$(dirname "$0")/../.."   # `backend.main:app` and alembic.ini resolve from the repository root

host="${HOST:-0.0.0.0}"
port="${PORT:-8000}"
workers="${WEB_CONCURRENCY:-$((2 * $(nproc)))}"

# /metrics sums the files every worker writes here. Files left by an earlier run would be
# added to the new totals, so the directory is emptied before the workers start.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/todo-metrics-${port}}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -maxdepth 1 -name '*.db' -delete

# --no-proxy-headers: the app installs ProxyHeadersMiddleware itself and trusts only
# FORWARDED_ALLOW_IPS; uvicorn's own copy would also trust 127.0.0.1 by default.
# --no-access-log: the app writes one JSON line per request instead.
# --loop asyncio: uvloop is faster per request but starves some connections when there
# are hundreds (measured in docs/performance.md).
# --ws-per-message-deflate false: change events are ~500 bytes of JSON, and each socket's
# compression state cost ~46 kB of worker memory (docs/performance.md, WebSocket fan-out).
# backend/server.py is uvicorn with each worker on a listening socket of its own
# (SO_REUSEPORT): with one shared socket, a burst of keep-alive connections lands on
# whichever worker wakes first (docs/performance.md, two workers).
# PYTHON if set; else a checkout's backend/.venv, or the image's venv (first on PATH).
python="${PYTHON:-backend/.venv/bin/python}"
[ -x "$python" ] || python=python
exec "$python" -m backend.server backend.main:app \
    --host "$host" \
    --port "$port" \
    --workers "$workers" \
    --loop asyncio \
    --no-proxy-headers \
    --no-access-log \
    --no-server-header \
    --ws-per-message-deflate false \
    --timeout-graceful-shutdown "${GRACEFUL_TIMEOUT:-20}" \
    --timeout-keep-alive "${KEEP_ALIVE_TIMEOUT:-75}"
