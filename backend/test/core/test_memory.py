"""What an app worker keeps resident: big freed buffers go back, unused clients stay unloaded."""

import asyncio.selector_events
import json
import subprocess
import sys
from pathlib import Path

from backend.core.memory import pin_mmap_threshold
from backend.core.security import pwd_context

# The app as SQLite users run it (no Redis, no broker), built in a fresh interpreter.
BUILD_AND_LIST = """
import sys
from backend.main import create_app
from backend.test.conftest import build_settings
create_app(build_settings("sqlite:///unused.db"))
print(" ".join(sorted(m for m in {names!r} if sys.modules.get(m) is not None)))
"""


# The collector's thresholds before and after an app's start-up, in a fresh interpreter.
THRESHOLDS_AROUND_START = """
import gc
import json
from fastapi.testclient import TestClient
from backend.main import create_app
from backend.test.conftest import build_settings
before = gc.get_threshold()
with TestClient(create_app(build_settings("sqlite:///{path}"))):
    print("THRESHOLDS", json.dumps([before, gc.get_threshold()]))
"""

# Where glibc puts a buffer of each size, once the threshold is pinned: on the heap (freed
# in place, no system call) or in a mapping of its own (unmapped when freed).
WHERE_BUFFERS_GO = """
import ctypes, sys
from backend.core.memory import pin_mmap_threshold
assert pin_mmap_threshold()
def heap():  # read after allocating: the heap may have grown to make room
    (low, high), = [
        [int(x, 16) for x in line.split()[0].split("-")]
        for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")
    ]
    return low, high
for size in map(int, sys.argv[1:]):
    buffer = bytearray(size)
    start = ctypes.addressof((ctypes.c_char * size).from_buffer(buffer))
    low, high = heap()
    print("heap" if low <= start and start + size <= high else "mapped")
"""


def test_the_mmap_threshold_is_pinned_on_glibc() -> None:
    assert pin_mmap_threshold() is True


def test_socket_reads_stay_on_the_heap_and_password_hashes_do_not() -> None:
    read_buffer = asyncio.selector_events._SelectorSocketTransport.max_size  # type: ignore[attr-defined]  # noqa: SLF001
    work_area = pwd_context.handler("argon2").memory_cost * 1024
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", WHERE_BUFFERS_GO, str(read_buffer + 64), str(work_area)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["heap", "mapped"]


def test_an_app_without_redis_or_a_broker_loads_neither_client_nor_icalendar_nor_jose_rsa_keys() -> None:
    clients = ("redis", "pika", "dramatiq.brokers.redis", "dramatiq.brokers.rabbitmq", "backend.realtime.relay")
    jose_rsa = ("jose.backends.cryptography_backend", "cryptography.x509")  # backend/core/hs256.py
    names = (*clients, "icalendar", *jose_rsa)
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", BUILD_AND_LIST.format(names=names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == []


def test_a_started_app_runs_the_young_collection_after_20000_objects(tmp_path: Path) -> None:
    script = THRESHOLDS_AROUND_START.format(path=tmp_path / "app.db")
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("THRESHOLDS ")]
    assert json.loads(line.removeprefix("THRESHOLDS ")) == [[700, 10, 10], [20000, 10, 10]]
