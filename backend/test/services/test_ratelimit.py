"""core.ratelimit.Throttle: moving windows per scope and identity, and the Redis fallback."""

import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import pytest

from backend.core.errors import RateLimited
from backend.core.ratelimit import Throttle
from backend.test.conftest import build_settings

T = TypeVar("T")


def throttle(**over: str) -> Throttle:
    return Throttle(build_settings("sqlite://", **over))


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class TestThrottle:
    def test_settings_become_limits(self) -> None:
        limits = throttle(RATE_LIMIT_LOGIN="3/minute", RATE_LIMIT_LOGIN_IP="7/hour", RATE_LIMIT_REGISTER="2/day").limits

        assert (limits.login.amount, limits.login.get_expiry()) == (3, 60)
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

    def test_login_limit_is_per_ip_and_username_ignoring_case(self) -> None:
        t = throttle(RATE_LIMIT_LOGIN="2/minute")

        async def scenario() -> list[bool]:
            await t.failed_login("10.0.0.1", "Frodo")
            await t.failed_login("10.0.0.1", "frodo")
            results = []
            for ip, name in (("10.0.0.1", "FRODO"), ("10.0.0.1", "sam"), ("10.0.0.2", "frodo")):
                try:
                    await t.check_login(ip, name)
                    results.append(True)
                except RateLimited:
                    results.append(False)
            return results

        assert run(scenario) == [False, True, True]

    def test_login_ip_limit_spans_usernames(self) -> None:
        t = throttle(RATE_LIMIT_LOGIN_IP="2/minute")

        async def scenario() -> None:
            await t.failed_login("10.0.0.1", "a")
            await t.failed_login("10.0.0.1", "b")
            await t.check_login("10.0.0.1", "c")

        with pytest.raises(RateLimited):
            run(scenario)

    def test_checking_does_not_count(self) -> None:
        t = throttle(RATE_LIMIT_LOGIN="1/minute")

        async def scenario() -> None:
            for _ in range(5):
                await t.check_login("10.0.0.1", "frodo")

        run(scenario)

    def test_counters_live_in_memory_without_redis(self) -> None:
        assert throttle().backend == "memory"


class TestRedisFallback:
    def test_unreachable_redis_falls_back_to_memory_and_still_limits(self) -> None:
        t = throttle(RATE_LIMIT_REGISTER="2/minute", REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
        assert t.backend == "redis"

        async def three() -> None:
            for _ in range(3):
                await t.consume(t.limits.register, "register", "10.0.0.1")

        with pytest.raises(RateLimited):
            run(three)
        assert t.backend == "memory"
