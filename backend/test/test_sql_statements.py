"""At most 3 SQL statements per API request, so no N+1 query creeps in.

Counted with SQLAlchemy's `before_cursor_execute` on the app's own engine. Transaction
control (BEGIN / COMMIT / ROLLBACK, which psycopg and PyMySQL send implicitly anyway) is
not a statement of the request and is not counted.
"""

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.test.factories import Account, make_todo, on_request_path, state_of, todo_payload

MAX_STATEMENTS = 3
KEYED_EXTRA = 2  # statements an Idempotency-Key adds to a create (services/idempotency.py)
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


class Recorder:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if on_request_path() and not TRANSACTION_CONTROL.match(statement):
            self.statements.append(" ".join(statement.split()))

    def count(self, request: Callable[[], Any], expected_status: int) -> list[str]:
        self.statements.clear()
        response = request()
        assert response.status_code == expected_status, response.text
        return list(self.statements)


@pytest.fixture
def recorder(app: FastAPI, client: TestClient, user: Account) -> Iterator[Recorder]:
    """Listens on the app's engine, after a warm-up request has opened its connections."""
    assert client.get("/todos/", headers=user.headers).status_code == 200
    recorder = Recorder()
    engine = state_of(app).db.request_engine
    event.listen(engine, "before_cursor_execute", recorder)
    yield recorder
    event.remove(engine, "before_cursor_execute", recorder)


@pytest.fixture
def todos(db_session: Session, user: Account) -> list[int]:
    return [make_todo(db_session, user.id, priority=1 + n % 5, description=f"item {n}")["id"] for n in range(50)]


def assert_few(statements: list[str]) -> None:
    assert len(statements) <= MAX_STATEMENTS, "\n".join(statements)


class TestStatementsPerRequest:
    def test_list_of_50(
        self, app: FastAPI, client: TestClient, user: Account, recorder: Recorder, todos: list[int]
    ) -> None:
        statements = recorder.count(lambda: client.get("/todos/", params={"limit": 50}, headers=user.headers), 200)

        assert_few(statements)
        # PostgreSQL reads the page with the user check (Database.page_with_check).
        assert len(statements) == (1 if state_of(app).db.page_with_check else 2), statements

    def test_filtered_full_page_with_count(
        self, client: TestClient, user: Account, recorder: Recorder, todos: list[int]
    ) -> None:
        statements = recorder.count(
            lambda: client.get(
                "/todos/", params={"q": "item", "priority": 3, "limit": 5, "sort": "title"}, headers=user.headers
            ),
            200,
        )

        assert_few(statements)

    def test_read(self, client: TestClient, user: Account, recorder: Recorder, todos: list[int]) -> None:
        statements = recorder.count(lambda: client.get(f"/todos/{todos[0]}", headers=user.headers), 200)

        assert_few(statements)
        assert len(statements) == 1, statements  # the todo comes with the user check (services/signed_in.py)

    def test_create(self, client: TestClient, user: Account, recorder: Recorder) -> None:
        statements = recorder.count(lambda: client.post("/todos/todos", json=todo_payload(), headers=user.headers), 201)

        assert_few(statements)

    def test_create_with_an_idempotency_key(self, client: TestClient, user: Account, recorder: Recorder) -> None:
        payload, headers = todo_payload(), {**user.headers, "Idempotency-Key": "k"}
        plain = recorder.count(lambda: client.post("/todos/todos", json=todo_payload(), headers=user.headers), 201)

        first = recorder.count(lambda: client.post("/todos/todos", json=payload, headers=headers), 201)
        replay = recorder.count(lambda: client.post("/todos/todos", json=payload, headers=headers), 201)

        # The claim's INSERT and the answer's UPDATE; a replay: the refused INSERT and one SELECT.
        assert len(first) == len(plain) + KEYED_EXTRA, "\n".join(first)
        assert_few(replay)

    def test_update(self, client: TestClient, user: Account, recorder: Recorder, todos: list[int]) -> None:
        statements = recorder.count(
            lambda: client.put(f"/todos/todo/{todos[0]}", json=todo_payload(), headers=user.headers), 200
        )

        assert_few(statements)
        assert len(statements) == 2, statements  # the todo comes with the user check, then the UPDATE

    def test_patch(self, client: TestClient, user: Account, recorder: Recorder, todos: list[int]) -> None:
        statements = recorder.count(
            lambda: client.patch(f"/todos/todo/{todos[0]}", json={"complete": True}, headers=user.headers), 200
        )

        assert len(statements) == 2, statements

    def test_delete(self, client: TestClient, user: Account, recorder: Recorder, todos: list[int]) -> None:
        statements = recorder.count(lambda: client.delete(f"/todos/todo/{todos[0]}", headers=user.headers), 204)

        assert_few(statements)

    def test_admin_lists_of_50(
        self, client: TestClient, admin: Account, recorder: Recorder, todos: list[int], db_session: Session
    ) -> None:
        users = recorder.count(lambda: client.get("/admin/user", headers=admin.headers), 200)
        all_todos = recorder.count(lambda: client.get("/admin/todo", headers=admin.headers), 200)

        assert_few(users)
        assert_few(all_todos)

    def test_account_calendar_time_zone_and_theme(self, client: TestClient, user: Account, recorder: Recorder) -> None:
        address = recorder.count(lambda: client.get("/user/calendar", headers=user.headers), 200)
        rotate = recorder.count(lambda: client.post("/user/calendar/rotate", headers=user.headers), 200)
        zone = recorder.count(lambda: client.put("/user/timezone/Europe%2FBerlin", headers=user.headers), 204)
        theme = recorder.count(lambda: client.put("/user/theme", json={"theme": "dark"}, headers=user.headers), 204)

        for statements in (address, rotate, zone, theme):
            assert_few(statements)

    def test_calendar_feed_is_one_statement(
        self, client: TestClient, user: Account, recorder: Recorder, todos: list[int]
    ) -> None:
        path = urlsplit(client.get("/user/calendar", headers=user.headers).json()["url"]).path
        hit = recorder.count(lambda: client.get(path), 200)
        miss = recorder.count(lambda: client.get("/calendar/unknown.ics"), 404)

        assert len(hit) == len(miss) == 1

    def test_lists_tags_views_and_quick_add(
        self, client: TestClient, user: Account, recorder: Recorder, todos: list[int]
    ) -> None:
        inbox = client.get("/lists/", headers=user.headers).json()[0]["id"]
        requests = [
            (lambda: client.get("/lists/", headers=user.headers), 200),
            (lambda: client.get(f"/lists/{inbox}", headers=user.headers), 200),
            (lambda: client.get("/todos/", params={"list_id": inbox, "limit": 10}, headers=user.headers), 200),
            (lambda: client.get("/todos/", params={"tag": ["a", "b"], "view": "upcoming"}, headers=user.headers), 200),
            (lambda: client.get("/tags/", headers=user.headers), 200),
            (
                lambda: client.post(
                    "/todos/quick", json={"text": "Call mom tomorrow 9am #family !4"}, headers=user.headers
                ),
                201,
            ),
            (lambda: client.patch(f"/todos/todo/{todos[0]}", json={"complete": True}, headers=user.headers), 200),
        ]
        for request, status in requests:
            assert_few(recorder.count(request, status))

    def test_a_shared_list_read_by_a_member(
        self, client: TestClient, user: Account, other_user: Account, recorder: Recorder, todos: list[int]
    ) -> None:
        inbox = client.get("/lists/", headers=user.headers).json()[0]["id"]
        member = {"username": other_user.username, "role": "editor"}
        assert client.post(f"/lists/{inbox}/members", json=member, headers=user.headers).status_code == 201
        page = recorder.count(lambda: client.get("/todos/", params={"list_id": inbox}, headers=other_user.headers), 200)
        one = recorder.count(lambda: client.get(f"/todos/{todos[0]}", headers=other_user.headers), 200)
        everything = recorder.count(lambda: client.get("/todos/", headers=other_user.headers), 200)
        assert_few(page)
        assert_few(one)
        assert_few(everything)
        # The user check (on PostgreSQL with the own-todos page, which is not a sharer's
        # answer), then their page and, the page being full, its count.
        assert len(everything) == 3, everything

    def test_recorder_sees_statements(self, client: TestClient, user: Account, recorder: Recorder) -> None:
        statements = recorder.count(lambda: client.get("/todos/", headers=user.headers), 200)

        assert any(statement.upper().startswith("SELECT") for statement in statements)
