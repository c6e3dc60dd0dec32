#!/usr/bin/env bash
# The performance benchmark (issues 5 and 12; docs/performance.md says how to read it).
#
#   backend/scripts/bench.sh                      # SQLite, 10 s per scenario (~3 min)
#   backend/scripts/bench.sh --db postgresql+asyncpg://postgres@127.0.0.1:5432/test --workers 2
#   backend/scripts/bench.sh --db 'mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4'
#   backend/scripts/bench.sh --quick              # 3 s per scenario, smoke run
#   backend/scripts/bench.sh --duration 20
#   backend/scripts/bench.sh --no-fanout          # without the WebSocket fan-out row (~20 s)
#   backend/scripts/bench.sh --no-export          # without the export-memory row (~40 s)
#
# Builds backend/.venv and installs Debian's wrk when missing (_common.sh), then runs
# `python -m backend.scripts.bench`: the app (one uvicorn worker) on a fresh database (a
# temp SQLite file, or a new database on the --db server that is dropped afterwards),
# seeded through the API, measured with wrk against a bare FastAPI ceiling app; then the
# WebSocket fan-out row (500 sockets, 1,000 changes, on a fresh worker); last, the
# export-memory row (a fresh worker's RSS while it streams 100,000 todos, inserted directly).
# Results: the tables on stdout, JSON + markdown in bench-results/ (git-ignored).
# Exit status: 0 when the benchmark ran (missed targets print FAIL but do not fail it),
# 2 on a setup failure.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

case " $* " in
    *" -h "*|*" --help "*) ;;
    *)
        ensure_venv backend/requirements-dev.txt || { echo "[bench] SETUP FAILED: the virtualenv" >&2; exit 2; }
        ensure_apt wrk
        command -v wrk >/dev/null || { echo "[bench] SETUP FAILED: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
        ;;
esac

# The benchmark stops every process it starts; the pid file lets this script stop them
# too should the Python process itself die without cleaning up.
PIDFILE="$(mktemp "${TMPDIR:-/tmp}/todo-bench-pids.XXXXXX")"
RUNNER=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    if [ -n "$RUNNER" ] && kill -0 "$RUNNER" 2>/dev/null; then
        kill -TERM "$RUNNER" 2>/dev/null || true
        wait "$RUNNER" 2>/dev/null || true
    fi
    if [ -s "$PIDFILE" ]; then
        while read -r pid; do
            [ -n "$pid" ] || continue
            # Only our own leftovers: a uvicorn or wrk process leading its own group.
            if grep -qaE 'uvicorn|wrk' "/proc/$pid/cmdline" 2>/dev/null; then
                kill -KILL -- "-$pid" 2>/dev/null || true
            fi
        done <"$PIDFILE"
    fi
    rm -f "$PIDFILE"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

BENCH_PIDFILE="$PIDFILE" "$PY" -m backend.scripts.bench "$@" &
RUNNER=$!
set +e
wait "$RUNNER"
status=$?
set -e
RUNNER=""
exit "$status"
