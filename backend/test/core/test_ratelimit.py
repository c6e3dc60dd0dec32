"""core.ratelimit.Throttle: moving windows per scope and identity, and the Redis fallback."""

import asyncio
import gc
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import pytest

from backend.core import ratelimit
from backend.core.errors import RateLimited
from backend.core.ratelimit import SweptMemoryStorage, Throttle
from backend.test.conftest import build_settings
from backend.test.live import free_port

T = TypeVar("T")
LOGIN_PROBES = (("10.0.0.1", "id:7"), ("10.0.0.1", "id:8"), ("10.0.0.2", "id:7"))


async def allowed(attempt: Awaitable[None]) -> bool:
    try:
        await attempt
    except RateLimited:
        return False
    return True


def throttle(**over: str) -> Throttle:
    return Throttle(build_settings("sqlite://", **over))


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


class TestThrottle:
    def test_settings_become_limits(self) -> None:
        limits = throttle(
            RATE_LIMIT_LOGIN="3/minute",
            RATE_LIMIT_LOGIN_IP="7/hour",
            RATE_LIMIT_REGISTER="2/day",
            RATE_LIMIT_LOGIN_ACCOUNT="9/hour",
            RATE_LIMIT_PASSWORD_CHECK="4/15 minutes",
            RATE_LIMIT_WRITE="5/second",
        ).limits

        assert (limits.login.amount, limits.login.get_expiry()) == (3, 60)
        assert (limits.login_account.amount, limits.login_account.get_expiry()) == (9, 3600)
        assert (limits.password_check.amount, limits.password_check.get_expiry()) == (4, 900)
        assert (limits.write.amount, limits.write.get_expiry()) == (5, 1)
        assert (limits.login_ip.amount, limits.login_ip.get_expiry()) == (7, 3600)
        assert (limits.register.amount, limits.register.get_expiry()) == (2, 86400)

    def test_consume_refuses_past_the_limit_with_retry_after(self) -> None:
        t = throttle(RATE_LIMIT_REGISTER="2/minute")

        async def three() -> None:
            for _ in range(3):
                await t.consume(t.limits.register, "register", "10.0.0.1")

        with pytest.raises(RateLimited) as caught:
            run(three)

        assert 1 <= caught.value.retry_after <= 60
        assert caught.value.headers == {"Retry-After": str(caught.value.retry_after)}
        assert caught.value.status_code == 429

    def test_identities_are_counted_apart(self) -> None:
        t = throttle(RATE_LIMIT_REGISTER="1/minute")

        async def one_each() -> None:
            await t.consume(t.limits.register, "register", "10.0.0.1")
            await t.consume(t.limits.register, "register", "10.0.0.2")

        run(one_each)

    def test_login_limit_is_per_ip_and_account(self) -> None:
        t = throttle(RATE_LIMIT_LOGIN="2/minute")

        async def scenario() -> list[bool]:
            await t.login_attempt("10.0.0.1", "id:7")
            await t.login_attempt("10.0.0.1", "id:7")
            return [await allowed(t.login_attempt(ip, who)) for ip, who in LOGIN_PROBES]

        assert run(scenario) == [False, True, True]

    def test_login_ip_limit_spans_accounts(self) -> None:
        t = throttle(RATE_LIMIT_LOGIN_IP="2/minute")

        async def scenario() -> None:
            await t.login_attempt("10.0.0.1", "id:1")
            await t.login_attempt("10.0.0.1", "id:2")
            await t.login_attempt("10.0.0.1", "id:3")

        with pytest.raises(RateLimited):
            run(scenario)

    def test_account_limit_spans_addresses(self) -> None:
        t = throttle(RATE_LIMIT_LOGIN_ACCOUNT="3/hour")

        async def rotating() -> list[bool]:
            return [await allowed(t.login_attempt(f"10.0.0.{n}", "id:7")) for n in range(5)]

        assert run(rotating) == [True, True, True, False, False]

    def test_simultaneous_attempts_get_at_most_the_limit(self) -> None:
        t = throttle(RATE_LIMIT_LOGIN="10/5 minutes")

        async def forty_at_once() -> list[bool]:
            return list(await asyncio.gather(*(allowed(t.login_attempt("10.0.0.1", "id:7")) for _ in range(40))))

        assert sum(run(forty_at_once)) == 10

    def test_password_checks_and_writes_are_per_user(self) -> None:
        t = throttle(RATE_LIMIT_PASSWORD_CHECK="2/15 minutes", RATE_LIMIT_WRITE="3/minute")

        async def scenario() -> tuple[list[bool], list[bool]]:
            checks = [await allowed(t.password_check(user)) for user in (1, 1, 1, 2)]
            writes = [await allowed(t.write(user)) for user in (1, 1, 1, 1, 2)]
            return checks, writes

        assert run(scenario) == ([True, True, False, True], [True, True, True, False, True])

    def test_counters_live_in_memory_without_redis(self) -> None:
        assert throttle().backend == "memory"


class TestMemoryExpiry:
    def test_hits_start_no_thread(self) -> None:
        limiter = throttle(RATE_LIMIT_WRITE="1000/minute")
        run(lambda: limiter.write(1))  # the sweeper, if this process had none yet
        before = threading.enumerate()

        async def writes() -> None:
            for _ in range(50):
                await limiter.write(1)
                await asyncio.sleep(0.001)  # past limits' own 10 ms timer, were it still on

        run(writes)
        started = [thread.name for thread in threading.enumerate() if thread not in before]
        assert started == []

    def test_the_sweeper_drops_expired_entries(self, monkeypatch: pytest.MonkeyPatch) -> None:
        storage = SweptMemoryStorage()
        storage.acquire_entry("old", limit=5, expiry=1)
        monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)  # long after its expiry
        storage.acquire_entry("new", limit=5, expiry=1)
        storage.sweep()
        assert storage.events.get("old") in (None, [])
        assert len(storage.events["new"]) == 1

    def test_a_forked_child_sweeps_the_storages_it_inherited(self) -> None:
        storage = SweptMemoryStorage()
        storage.acquire_entry("old", limit=5, expiry=1)
        pid = os.fork()
        if pid == 0:  # the child: exit status 0 only once its own sweeper has emptied "old"
            ok = any(thread.name == "ratelimit-sweeper" for thread in threading.enumerate())
            deadline = time.monotonic() + 10
            while ok and storage.events.get("old") and time.monotonic() < deadline:
                time.sleep(0.05)
            os._exit(0 if ok and not storage.events.get("old") else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0

    def test_one_sweeper_thread_serves_every_storage(self) -> None:
        for _ in range(3):
            SweptMemoryStorage()
        sweepers = [thread for thread in threading.enumerate() if thread.name == "ratelimit-sweeper"]
        assert len(sweepers) == 1
        assert sweepers[0].daemon
        assert ratelimit.SWEEP_SECONDS <= 5


class TestRedisFallback:
    def test_unreachable_redis_falls_back_to_memory_and_still_limits(self) -> None:
        t = throttle(RATE_LIMIT_REGISTER="2/minute", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
        assert t.backend == "redis"

        async def three() -> None:
            for _ in range(3):
                await t.consume(t.limits.register, "register", "10.0.0.1")

        with pytest.raises(RateLimited):
            run(three)
        assert t.backend == "memory"


class TestRedisCounting:
    # The client's pooled socket outlives the event loop anyio.run closes; it is collected
    # inside this test so the warning cannot surface in a later one.
    @pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
    def test_simultaneous_attempts_on_redis_get_at_most_the_limit(self) -> None:
        account = f"id:{uuid.uuid4().hex}"  # counters outlive the test in Redis

        async def forty_at_once() -> tuple[int, str]:
            t = throttle(RATE_LIMIT_LOGIN="10/5 minutes", REDIS_URL="redis://127.0.0.1:6379/0")
            attempts = [allowed(t.login_attempt("10.9.9.9", account)) for _ in range(40)]
            return sum(await asyncio.gather(*attempts)), t.backend

        allowed_count, backend = run(forty_at_once)
        gc.collect()

        assert allowed_count == 10
        assert backend == "redis"
