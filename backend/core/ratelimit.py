"""Throttles for logins, sign-ups, password checks and writes, on the `limits` library.

Every attempt is counted *before* the work it guards (an atomic test-and-count: the
moving window's `hit`, a Lua script on Redis), so simultaneous requests cannot all slip
in under the limit before any of them is counted.

With REDIS_URL the counters live in Redis and are shared by every worker and instance.
If Redis stops answering, each process falls back to its own in-memory counters (limits
stay enforced, per process) and tries Redis again after a short pause.

The in-process counters are the library's thread-safe synchronous storage: their locks
and expiry belong to no event loop, so an app driven from several loops (test clients do
that) never waits on a lock held by a loop that has stopped. A memory hit takes
microseconds and never blocks the loop.
"""

import logging
import math
import os
import threading
import time
import weakref
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter as MemoryRateLimiter

from backend.core.config import Settings
from backend.core.errors import RateLimited

logger = logging.getLogger("backend.ratelimit")
REDIS_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Limits:
    login: RateLimitItem  # per client IP and account
    login_ip: RateLimitItem  # per client IP, any account
    login_account: RateLimitItem  # per account, any address
    register: RateLimitItem  # sign-ups (valid or not) per client IP
    password_check: RateLimitItem  # current-password checks per user
    write: RateLimitItem  # writes per user
    password_reset: RateLimitItem  # reset requests per address and per IP

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(
            login=parse(settings.RATE_LIMIT_LOGIN),
            login_ip=parse(settings.RATE_LIMIT_LOGIN_IP),
            login_account=parse(settings.RATE_LIMIT_LOGIN_ACCOUNT),
            register=parse(settings.RATE_LIMIT_REGISTER),
            password_check=parse(settings.RATE_LIMIT_PASSWORD_CHECK),
            write=parse(settings.RATE_LIMIT_WRITE),
            password_reset=parse(settings.RATE_LIMIT_PASSWORD_RESET),
        )


SWEEP_SECONDS = 1.0


class _Sweeper:
    """One daemon thread per process that drops expired entries from every
    `SweptMemoryStorage` once a second."""

    def __init__(self) -> None:
        self._storages: weakref.WeakSet[SweptMemoryStorage] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._running = False

    def add(self, storage: "SweptMemoryStorage") -> None:
        with self._lock:
            self._storages.add(storage)
            if not self._running:
                self._start()

    def after_fork(self) -> None:
        """In a forked child: its storages came along, the thread did not."""
        self._lock = threading.Lock()
        self._running = False
        if self._storages:
            self._start()

    def _start(self) -> None:
        self._running = True
        threading.Thread(target=self._run, name="ratelimit-sweeper", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(SWEEP_SECONDS)
            for storage in list(self._storages):
                storage.sweep()


_SWEEPER = _Sweeper()
os.register_at_fork(after_in_child=_SWEEPER.after_fork)


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process storage, its expired entries dropped by the process's sweeper.

    The library's own expiry is a `threading.Timer` started 10 ms after any hit that finds
    none running: under steady writes about 100 new threads a second, each start waited
    for on the event loop (3% of a write request when profiled, issue 12). Expiry only
    frees memory: every limit check compares the entries' own timestamps with the clock.
    """

    def __init__(self) -> None:
        super().__init__()
        _SWEEPER.add(self)

    def _MemoryStorage__schedule_expiry(self) -> None:  # the library's per-hit timer: not needed
        return None

    def sweep(self) -> None:
        """Drop the entries and counters that have expired (the library's own routine)."""
        self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class Throttle:
    """Moving-window counters keyed by scope and identity (client IP, account, user)."""

    def __init__(self, settings: Settings) -> None:
        self.limits = Limits.from_settings(settings)
        self._memory = MemoryRateLimiter(SweptMemoryStorage())
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

    def _shared_failed(self, exc: StorageError) -> None:
        logger.warning("redis unavailable for rate limits, using memory: %s", exc.storage_error)
        self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    async def consume(self, item: RateLimitItem, *ids: str) -> None:
        """Count one attempt, atomically, or raise RateLimited when the limit is used up."""
        if self._shared is not None and self.backend == "redis":
            try:
                if await self._shared.hit(item, *ids):
                    return
                stats = await self._shared.get_window_stats(item, *ids)
            except StorageError as exc:
                self._shared_failed(exc)
                await self.consume(item, *ids)
                return
        else:
            if self._memory.hit(item, *ids):
                return
            stats = self._memory.get_window_stats(item, *ids)
        raise RateLimited(math.ceil(stats.reset_time - time.time()))

    async def login_attempt(self, client_ip: str, account: str) -> None:
        """Count a login attempt for an account (its id, or the normalised name when there
        is no such account) against the address, address + account and account limits."""
        await self.consume(self.limits.login_ip, "login-ip", client_ip)
        await self.consume(self.limits.login, "login", client_ip, account)
        await self.consume(self.limits.login_account, "login-account", account)

    async def register_attempt(self, client_ip: str) -> None:
        """Count a sign-up attempt, valid or not."""
        await self.consume(self.limits.register, "register", client_ip)

    async def password_check(self, user_id: int) -> None:
        """Count a check of a user's current password."""
        await self.consume(self.limits.password_check, "password-check", str(user_id))

    async def password_reset(self, client_ip: str, address: str) -> None:
        """Count a reset request against the address's and the client IP's budgets."""
        await self.consume(self.limits.password_reset, "reset-ip", client_ip)
        await self.consume(self.limits.password_reset, "reset-address", address)

    async def write(self, user_id: int) -> None:
        """Count one write by a user."""
        await self.consume(self.limits.write, "write", str(user_id))
