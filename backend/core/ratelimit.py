"""Throttles for logins and registrations, on the `limits` library.

With REDIS_URL the counters live in Redis and are shared by every worker and instance.
If Redis stops answering, each process falls back to its own in-memory counters (limits
stay enforced, per process) and tries Redis again after a short pause.
"""

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from backend.core.config import Settings
from backend.core.errors import RateLimited

logger = logging.getLogger("backend.ratelimit")
REDIS_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Limits:
    login: RateLimitItem
    login_ip: RateLimitItem
    register: RateLimitItem


class Throttle:
    """Moving-window counters keyed by scope and identity (client IP, username)."""

    def __init__(self, settings: Settings) -> None:
        self.limits = Limits(
            login=parse(settings.RATE_LIMIT_LOGIN),
            login_ip=parse(settings.RATE_LIMIT_LOGIN_IP),
            register=parse(settings.RATE_LIMIT_REGISTER),
        )
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if settings.REDIS_URL:
            uri = "async+" + settings.REDIS_URL.removeprefix("async+")
            storage = storage_from_string(uri, wrap_exceptions=True, connect_timeout=1, stream_timeout=1)
            assert isinstance(storage, Storage)
            self._shared = MovingWindowRateLimiter(storage)
        self._shared_down_until = 0.0

    @property
    def backend(self) -> str:
        """Where counters live right now: 'redis' or 'memory'."""
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return "redis"
        return "memory"

    def _strategy(self) -> MovingWindowRateLimiter:
        return self._shared if self.backend == "redis" and self._shared else self._memory

    def _shared_failed(self, exc: StorageError) -> None:
        logger.warning("redis unavailable for rate limits, using memory: %s", exc.storage_error)
        self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    async def ensure_allowed(self, item: RateLimitItem, *ids: str) -> None:
        """Raise RateLimited when one more attempt would exceed the limit."""
        strategy = self._strategy()
        try:
            allowed = await strategy.test(item, *ids)
            if not allowed:
                stats = await strategy.get_window_stats(item, *ids)
                raise RateLimited(math.ceil(stats.reset_time - time.time()))
        except StorageError as exc:
            self._shared_failed(exc)
            await self.ensure_allowed(item, *ids)

    async def hit(self, item: RateLimitItem, *ids: str) -> None:
        """Count one attempt."""
        try:
            await self._strategy().hit(item, *ids)
        except StorageError as exc:
            self._shared_failed(exc)
            await self._memory.hit(item, *ids)

    async def consume(self, item: RateLimitItem, *ids: str) -> None:
        """Count one attempt, refusing it when the limit is already used up."""
        await self.ensure_allowed(item, *ids)
        await self.hit(item, *ids)

    async def check_login(self, client_ip: str, username: str) -> None:
        """Refuse a login attempt while either failed-login limit is exhausted."""
        await self.ensure_allowed(self.limits.login_ip, "login-ip", client_ip)
        await self.ensure_allowed(self.limits.login, "login", client_ip, username.lower())

    async def failed_login(self, client_ip: str, username: str) -> None:
        """Count a failed login against both login limits."""
        await self.hit(self.limits.login_ip, "login-ip", client_ip)
        await self.hit(self.limits.login, "login", client_ip, username.lower())
