"""What an app worker keeps resident: big freed buffers go back, unused clients stay unloaded."""

import subprocess
import sys

from backend.core.memory import pin_mmap_threshold

# The app as SQLite users run it (no Redis, no broker), built in a fresh interpreter.
BUILD_AND_LIST = """
import sys
from backend.main import create_app
from backend.test.conftest import build_settings
create_app(build_settings("sqlite:///unused.db"))
print(" ".join(sorted(m for m in {names!r} if m in sys.modules)))
"""


def test_the_mmap_threshold_is_pinned_on_glibc() -> None:
    assert pin_mmap_threshold() is True


def test_an_app_without_redis_or_a_broker_loads_neither_client() -> None:
    names = ("redis", "pika", "dramatiq.brokers.redis", "dramatiq.brokers.rabbitmq", "backend.realtime.relay")
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", BUILD_AND_LIST.format(names=names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == []
