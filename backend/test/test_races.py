"""Races against a real uvicorn: what parallel requests must not get away with.

- 40 simultaneous wrong guesses for one account get at most RATE_LIMIT_LOGIN answers
  that are not 429, with counters in memory and in Redis.
- Two admins deleting each other at the same moment leave one admin.
- A cookie form whose body arrives after its session was logged out changes nothing.
- 64 simultaneous creates with one Idempotency-Key create exactly one todo; the others
  get its answer replayed or a 409, also when half of them send another body.
- 32 simultaneous completions of one repeating todo add exactly one next occurrence.
- 32 simultaneous creates by one user all land, and the user's kept count (spread over
  several rows so that they need not queue for one) is exact.
"""

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.models import ROLE_ADMIN, Todo, TodoCount, User
from backend.test.conftest import AccountFactory, live_env
from backend.test.factories import Account, count_todos, counted_todos, todo_payload, use_session
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


class TestIdempotentCreatesUnderLoad:
    def keyed_creates(self, server: LiveServer, account: Account, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
        """Every body POSTed under one new key at once, each on a connection opened beforehand
        (so the requests arrive together instead of one connect apart)."""
        headers = {**account.headers, "Idempotency-Key": f"race-{uuid.uuid4()}"}
        with ExitStack() as stack:
            clients = [stack.enter_context(httpx.Client(base_url=server.url, timeout=30)) for _ in bodies]
            for client in clients:
                assert client.get("/health/live").status_code == 200

            def create(n: int) -> httpx.Response:
                return clients[n].post("/todos/todos", json=bodies[n], headers=headers)

            return all_at_once(len(bodies), create)

    def test_64_identical_requests_create_exactly_one_todo(
        self, server: LiveServer, user: Account, db_session: Session
    ) -> None:
        responses = self.keyed_creates(server, user, [todo_payload(title="Exactly once")] * 64)

        statuses = [r.status_code for r in responses]
        created = [r for r in responses if r.status_code == 201]
        assert set(statuses) <= {201, 409}, server.tail()
        assert [r.headers.get("Idempotent-Replayed") for r in created].count(None) == 1
        assert {r.content for r in created} == {created[0].content}
        assert {r.headers["Location"] for r in created} == {f"/todos/{created[0].json()['id']}"}
        assert count_todos(db_session, user.id) == 1

    def test_two_bodies_racing_for_one_key_create_one_todo(
        self, server: LiveServer, user: Account, db_session: Session
    ) -> None:
        bodies = [todo_payload(title="First"), todo_payload(title="Second")] * 32

        responses = self.keyed_creates(server, user, bodies)

        assert {r.status_code for r in responses} <= {201, 409, 422}, server.tail()
        assert [r.status_code == 201 and "Idempotent-Replayed" not in r.headers for r in responses].count(True) == 1
        assert count_todos(db_session, user.id) == 1


class TestRepeatingCompletionsUnderLoad:
    def test_32_simultaneous_completions_add_one_next_occurrence(
        self, server: LiveServer, user: Account, db_session: Session
    ) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as setup:
            body = {"title": "Water plants", "repeat": "every 3 days", "due_date": "2027-03-01", "tags": ["home"]}
            todo = setup.post("/todos/todos", json=body, headers=user.headers).json()
        with ExitStack() as stack:
            clients = [stack.enter_context(httpx.Client(base_url=server.url, timeout=30)) for _ in range(32)]
            for client in clients:
                assert client.get("/health/live").status_code == 200

            def complete(n: int) -> httpx.Response:
                path = f"/todos/todo/{todo['id']}"
                return clients[n].patch(path, json={"complete": True}, headers=user.headers)

            responses = all_at_once(len(clients), complete)

        assert {r.status_code for r in responses} == {200}, server.tail()
        assert all(r.json()["complete"] for r in responses)
        session_rows = db_session.execute(select(Todo.due_date, Todo.complete).where(Todo.owner_id == user.id)).all()
        db_session.commit()
        assert sorted((str(row.due_date), bool(row.complete)) for row in session_rows) == [
            ("2027-03-01", True),
            ("2027-03-04", False),
        ]
        assert count_todos(db_session, user.id) == 2
        assert counted_todos(db_session, user.id) == 2


class TestCreatesUnderLoad:
    def test_32_simultaneous_creates_are_all_counted(
        self, server: LiveServer, user: Account, db_session: Session
    ) -> None:
        with ExitStack() as stack:
            clients = [stack.enter_context(httpx.Client(base_url=server.url, timeout=30)) for _ in range(32)]
            for client in clients:
                assert client.get("/health/live").status_code == 200

            def create(n: int) -> httpx.Response:
                return clients[n].post("/todos/todos", json=todo_payload(title=f"Race {n}"), headers=user.headers)

            responses = all_at_once(len(clients), create)
            listed = clients[0].get("/todos/", params={"limit": 1}, headers=user.headers)

        assert {r.status_code for r in responses} == {201}, server.tail()
        assert count_todos(db_session, user.id) == counted_todos(db_session, user.id) == 32
        assert listed.headers["X-Total-Count"] == "32"
        rows = db_session.execute(select(TodoCount.slot).where(TodoCount.user_id == user.id, TodoCount.todo_count > 0))
        assert len(rows.all()) > 1  # 32 creates in one row: 8 ** -31 if the rows are picked at random
