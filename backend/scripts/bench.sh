#!/usr/bin/env bash
# The performance benchmark (issue 5; README "Performance").
#
#   backend/scripts/bench.sh                      # SQLite, 10 s per scenario (~2-3 min)
#   backend/scripts/bench.sh --db postgresql+psycopg://postgres@127.0.0.1:5432/test
#   backend/scripts/bench.sh --db 'mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4'
#   backend/scripts/bench.sh --quick              # 3 s per scenario, smoke run
#   backend/scripts/bench.sh --duration 20
#
# On a fresh machine it builds backend/.venv from backend/requirements-dev.txt and installs
# wrk from Debian when missing. It then starts the app (one uvicorn worker) on a fresh
# database (a temp SQLite file, or a new database on the --db server that is dropped
# afterwards), seeds it through the API and runs wrk; see backend/scripts/bench/run.py.
# Results: one table on stdout, JSON + markdown in bench-results/ (git-ignored).
# Exit status: 0 when the benchmark ran (missed targets print FAIL but do not fail it),
# 2 on a setup failure.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
VENV="$REPO/backend/.venv"
PY="$VENV/bin/python"

say() { printf '[bench] %s\n' "$*" >&2; }
die() { say "SETUP FAILED: $*"; exit 2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

case " $* " in
    *" -h "*|*" --help "*) ;;
    *)
        # 1. The virtualenv.
        if [ -x "$PY" ] && "$PY" -c 'import fastapi, uvicorn, httpx, sqlalchemy, alembic' 2>/dev/null; then
            :
        else
            if [ ! -x "$PY" ]; then
                command -v python3 >/dev/null || die "python3 not found"
                python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ needed"
                say "creating $VENV"
                if ! python3 -m venv "$VENV"; then
                    rm -rf "$VENV"
                    say "python3 -m venv failed; installing python3-venv"
                    as_root apt-get install -y python3-venv || { as_root apt-get update && as_root apt-get install -y python3-venv; } \
                        || die "could not install python3-venv"
                    python3 -m venv "$VENV" || die "could not create $VENV"
                fi
            fi
            say "installing backend/requirements-dev.txt into $VENV"
            "$PY" -m pip install --quiet --upgrade pip || die "pip upgrade failed"
            "$PY" -m pip install --quiet -r backend/requirements-dev.txt || die "pip install -r backend/requirements-dev.txt failed"
        fi

        # 2. wrk.
        if ! command -v wrk >/dev/null; then
            say "installing wrk (apt-get)"
            as_root apt-get install -y wrk || { as_root apt-get update && as_root apt-get install -y wrk; } \
                || die "could not install wrk"
        fi
        ;;
esac

# 3. The run. run.py stops every process it starts; the pid file lets this script stop
# them too should run.py itself die without cleaning up.
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

BENCH_PIDFILE="$PIDFILE" "$PY" "$REPO/backend/scripts/bench/run.py" "$@" &
RUNNER=$!
set +e
wait "$RUNNER"
status=$?
set -e
RUNNER=""
exit "$status"
