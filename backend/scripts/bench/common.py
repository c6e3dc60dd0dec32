"""Constants, paths, errors and the two output streams every benchmark module shares."""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
LUA_DIR = HERE / "lua"
RESULTS_DIR = REPO / "bench-results"
PYTHON = sys.executable
HOST = "127.0.0.1"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", None, ""}

# --loop asyncio, as start.sh and serve.sh run the app: under uvloop some connections
# starve at 256 connections (measured in docs/performance.md).
# As serve.sh runs the app (no per-socket WebSocket compression: see serve.sh).
UVICORN_FLAGS = [
    "--loop",
    "asyncio",
    "--no-access-log",
    "--no-proxy-headers",
    "--ws-per-message-deflate",
    "false",
    "--log-level",
    "warning",
]
HIGH_RATE = "1000000/minute"
# Every server of a run gets the same string-hash seed. With random seeds, three
# processes of the very same app served the list at 1,297 to 1,373 requests/s each over
# six alternating runs (one hash layout can be a few % faster than another); with one
# seed, 1,471 to 1,500. Rows compared with each other compare code, not layouts.
HASH_SEED = "0"
PASSWORD = "Tr0ub4dor&3-horse"
THREADS = 2
CONNS = 32
CONNS_HIGH = 256
TIMEOUT = 2
TIMEOUT_HIGH = 5
TODOS_SMALL = 50
TODOS_LARGE = 10_000
SEED_CONCURRENCY = 32
SEED_SECONDS_MAX = 300
SEED_DONE_MARKER = "BENCH_SEED_THREAD_DONE"


class SetupError(Exception):
    """The benchmark could not be set up or run; exit status 2."""


class Interrupted(BaseException):
    """SIGINT / SIGTERM / SIGHUP: clean up and leave."""


def log(message: str) -> None:
    """Progress, on stderr."""
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def out(text: str = "") -> None:
    """The report, on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
