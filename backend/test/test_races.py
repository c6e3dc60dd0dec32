"""Races against a real uvicorn: what parallel requests must not get away with.

- 40 simultaneous wrong guesses for one account get at most RATE_LIMIT_LOGIN answers
  that are not 429, with counters in memory and in Redis.
- Two admins deleting each other at the same moment leave one admin.
- A cookie form whose body arrives after its session was logged out changes nothing.
"""

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.models import ROLE_ADMIN, User
from backend.test.conftest import AccountFactory, live_env
from backend.test.factories import Account, count_todos, use_session
from backend.test.live import HOST, LiveServer

LOGIN_LIMIT = 10


@pytest.fixture(scope="module", params=["memory", "redis"])
def server(
    request: pytest.FixtureRequest, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    redis = "redis://127.0.0.1:6379/0" if request.param == "redis" else ""
    env = live_env(settings, RATE_LIMIT_LOGIN=f"{LOGIN_LIMIT}/5 minutes", REDIS_URL=redis)
    log_path = tmp_path_factory.mktemp("races") / "server.log"
    with LiveServer.uvicorn(env=env, log_path=log_path) as live:
        yield live


def all_at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run `call(n)` in `count` threads released together."""
    barrier = threading.Barrier(count)

    def run(n: int) -> Any:
        barrier.wait()
        return call(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


class TestLoginThrottleUnderLoad:
    def test_40_simultaneous_guesses_get_at_most_the_limit(
        self, server: LiveServer, account_factory: AccountFactory
    ) -> None:
        account = account_factory(username=f"race{uuid.uuid4().hex[:12]}")

        def guess(_n: int) -> int:
            return httpx.get(f"{server.url}/login", auth=(account.username, "wrong-password-1"), timeout=30).status_code

        statuses = all_at_once(40, guess)

        assert statuses.count(429) >= 40 - LOGIN_LIMIT
        assert set(statuses) <= {401, 429}


class TestAdminsDeletingEachOther:
    def test_one_admin_always_remains(
        self, server: LiveServer, account_factory: AccountFactory, db_session: Session
    ) -> None:
        first, second = account_factory(role="admin"), account_factory(role="admin")
        pair = [(first, second), (second, first)]

        def delete(n: int) -> int:
            actor, target = pair[n]
            url = f"{server.url}/admin/{target.username}"
            return httpx.delete(url, headers=actor.headers, timeout=30).status_code

        statuses = all_at_once(2, delete)

        db_session.expire_all()
        admins = db_session.execute(select(func.count()).where(User.role == ROLE_ADMIN)).scalar_one()
        assert admins == 1
        assert sorted(statuses) in ([204, 401], [204, 403])


class TestFormBodyAfterLogout:
    def test_a_form_finished_after_logout_changes_nothing(
        self, server: LiveServer, user: Account, settings: Settings, db_session: Session
    ) -> None:
        with httpx.Client(base_url=server.url) as client:
            csrf = use_session(client, settings, user)
            body = f"title=Written+after+logout&csrf_token={csrf}".encode()
            head = (
                f"POST /add-todo-page HTTP/1.1\r\nHost: {HOST}\r\nCookie: session={user.token}\r\n"
                f"X-CSRF-Token: {csrf}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            with socket.create_connection((HOST, server.port), timeout=10) as sock:
                sock.sendall(head + body[:5])  # the request is under way, its body not yet complete
                logout = client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
                sock.sendall(body[5:])
                answer = sock.recv(65536)

        assert logout.status_code == 204
        assert answer.startswith(b"HTTP/1.1 303 ")
        assert b"/login-page" in answer
        assert count_todos(db_session, user.id) == 0
