"""Two app processes on one Redis share one login limit; revocation is shared through the
database; without Redis each process still serves and still limits, on its own counters."""

import signal
from collections.abc import Iterator

import httpx
import pytest

from backend.test.live import free_port, wait_until

from .processes import PASSWORD, AppProcess, Launcher, client, login, register_user, unique_name
from .services import executable, redis_db, redis_keys, redis_up

REDIS_DB = 11
LIMIT = {"RATE_LIMIT_LOGIN": "3/minute"}
WRONG = "not-the-password-9"
REDIS_DOWN = "redis unavailable for rate limits"


def attempts(apps: list[AppProcess], username: str, password: str = WRONG) -> list[int]:
    """One login attempt on each app in turn; the statuses."""
    with client() as http:
        return [login(http, app.url, username, password).status_code for app in apps]


@pytest.fixture(scope="module")
def shared(module_launcher: Launcher, deploy_database: str) -> tuple[AppProcess, AppProcess, str]:
    url = redis_db(REDIS_DB)
    a = module_launcher.app("shared-a", database_url=deploy_database, wait=False, settings={"REDIS_URL": url, **LIMIT})
    b = module_launcher.app("shared-b", database_url=deploy_database, wait=False, settings={"REDIS_URL": url, **LIMIT})
    a.wait_ready()
    b.wait_ready()
    return a, b, url


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with client() as http:
        yield http


class TestSharedRedis:
    def test_one_login_limit_across_both_processes(self, shared: tuple[AppProcess, AppProcess, str]) -> None:
        a, b, url = shared
        username = unique_name("limit")
        register_user(a.url, username)
        assert attempts([a, b, a], username) == [401, 401, 401]
        assert attempts([b], username) == [429]  # b saw one failure itself: the count is shared
        assert attempts([a, b], username, PASSWORD) == [429, 429]  # even the right password
        assert redis_keys(url, "*login*"), "the counters live in Redis"  # keyed by account id, not name
        assert REDIS_DOWN not in a.output() + b.output()

    def test_logout_on_one_is_refused_on_the_other(
        self, shared: tuple[AppProcess, AppProcess, str], http: httpx.Client
    ) -> None:
        a, b, _ = shared
        username = unique_name("logout")
        register_user(a.url, username)
        bearer = {"Authorization": f"Bearer {login(http, a.url, username).json()['access_token']}"}
        assert http.get(f"{b.url}/user/", headers=bearer).status_code == 200
        assert http.post(f"{a.url}/auth/logout", headers=bearer).status_code == 204
        assert http.get(f"{b.url}/user/", headers=bearer).status_code == 401
        assert http.post(f"{b.url}/auth/logout", headers=bearer).status_code == 401
        assert http.get(f"{a.url}/user/", headers=bearer).status_code == 401


def test_without_redis_each_process_serves_and_limits_alone(
    launcher: Launcher, deploy_database: str, http: httpx.Client
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    a = launcher.app("dead-a", database_url=deploy_database, wait=False, settings={"REDIS_URL": dead, **LIMIT})
    b = launcher.app("dead-b", database_url=deploy_database, wait=False, settings={"REDIS_URL": dead, **LIMIT})
    a.wait_ready()
    b.wait_ready()
    username = unique_name("noredis")
    register_user(a.url, username)
    assert login(http, a.url, username).status_code == 200  # every attempt counts, this one too
    assert attempts([a, a, a], username) == [401, 401, 429]
    assert attempts([b], username) == [401]  # b counts its own failures
    assert login(http, b.url, username).status_code == 200
    wait_until(lambda: REDIS_DOWN in a.output() and REDIS_DOWN in b.output(), timeout=10, what="the fallback warning")


def test_redis_going_away_mid_run(launcher: Launcher, deploy_database: str, http: httpx.Client) -> None:
    redis_server = executable("redis-server", package="Debian package redis-server")
    port = free_port()
    redis = launcher.process(
        "redis", [redis_server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_until(lambda: redis_up(url), timeout=10, what="the private redis-server")
    a = launcher.app("gone-a", database_url=deploy_database, wait=False, settings={"REDIS_URL": url, **LIMIT})
    b = launcher.app("gone-b", database_url=deploy_database, wait=False, settings={"REDIS_URL": url, **LIMIT})
    a.wait_ready()
    b.wait_ready()
    username = unique_name("gone")
    register_user(a.url, username)
    assert attempts([a, b], username) == [401, 401]
    assert redis_keys(url, "*login*")
    redis.send(signal.SIGKILL)
    redis.wait(timeout=10)
    # Still serving: health, a login, an authenticated request.
    assert http.get(f"{a.url}/health").status_code == 200
    token = login(http, b.url, username).json()["access_token"]
    assert http.get(f"{a.url}/user/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # Still limiting, now on a's own counters (the two shared failures are gone with Redis).
    assert attempts([a, a, a, a], username) == [401, 401, 401, 429]
    assert REDIS_DOWN in a.output()
