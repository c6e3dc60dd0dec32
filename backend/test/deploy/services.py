"""The outside services the deploy tests use: tools, nginx, Redis. Missing ones skip the
tests that need them, or fail them under CI=true (CI must never pass by not running them)."""

import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import anyio
import coredis
import pytest

REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
T = TypeVar("T")


def unavailable(what: str) -> None:
    """Skip the test, or fail it when CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not available")


def executable(name: str, *, package: str) -> str:
    """A command from the venv (hadolint, check-jsonschema) or from PATH / sbin."""
    candidates = [Path(sys.executable).with_name(name), Path("/usr/sbin", name)]
    found = next((str(p) for p in candidates if p.exists()), None) or shutil.which(name)
    if not found:
        unavailable(f"{name} ({package})")
    assert found is not None
    return found


def _with_redis(url: str, action: Callable[[coredis.Redis[bytes]], Awaitable[T]]) -> T:
    async def run() -> T:
        client: coredis.Redis[bytes] = coredis.Redis.from_url(url)
        try:
            return await action(client)
        finally:
            client.connection_pool.disconnect()

    return anyio.run(run)


def redis_keys(url: str, pattern: str = "*") -> set[str]:
    """The keys of the Redis database at `url` that match `pattern`."""
    return {key.decode() for key in _with_redis(url, lambda r: r.keys(pattern))}


def redis_up(url: str) -> bool:
    """Whether the Redis at `url` answers PING."""
    try:
        return bool(_with_redis(url, lambda r: r.ping()))
    except (OSError, coredis.exceptions.RedisError):
        return False


def redis_db(db: int) -> str:
    """Database `db` of the test Redis, emptied first."""
    url = f"{REDIS_BASE_URL}/{db}"
    if not redis_up(url):
        unavailable(f"Redis at {REDIS_BASE_URL}")
    _with_redis(url, lambda r: r.flushdb())
    return url
