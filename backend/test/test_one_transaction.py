"""A write request is one transaction: what it answers is read before its commit.

A second transaction after the commit costs a round trip on a server, and on SQLite a
second BEGIN IMMEDIATE that waits for the write lock whenever another process took it in
between (before later BEGINs could wait, it failed: "database is locked", a 500).
Counted with the engine's `begin` event, on connections not in autocommit.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event

from backend.test.factories import Account, on_request_path, state_of, todo_payload


class Begins:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, conn: Connection) -> None:
        # A connection in autocommit (a PostgreSQL request's reads, database/request_scope.py)
        # begins no transaction: the driver sends no BEGIN.
        if on_request_path() and conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.count += 1

    def during(self, request: Callable[[], Any], status: int) -> int:
        self.count = 0
        response = request()
        assert response.status_code == status, response.text
        return self.count


@pytest.fixture
def begins(app: FastAPI, client: TestClient) -> Iterator[Begins]:  # noqa: ARG001 (the app started first)
    engine = state_of(app).db.request_engine
    seen = Begins()
    event.listen(engine, "begin", seen)
    yield seen
    event.remove(engine, "begin", seen)


def test_each_write_that_answers_with_a_row_runs_in_one_transaction(
    client: TestClient, begins: Begins, user: Account, other_user: Account, admin: Account
) -> None:
    headers = user.headers
    created = client.post("/lists/", json={"name": "Work"}, headers=headers)
    assert created.status_code == 201
    list_id = created.json()["id"]
    todo_id = client.post("/todos/todos", json=todo_payload(list_id=list_id), headers=headers).json()["id"]
    client.post("/todos/todos", json=todo_payload(list_id=list_id), headers=headers)

    writes: list[tuple[Callable[[], Any], int]] = [
        (lambda: client.post("/lists/", json={"name": "Home"}, headers=headers), 201),
        (lambda: client.put(f"/lists/{list_id}", json={"name": "Office"}, headers=headers), 200),
        (
            lambda: client.post(
                f"/lists/{list_id}/members", json={"username": other_user.username, "role": "viewer"}, headers=headers
            ),
            201,
        ),
        (lambda: client.patch(f"/todos/todo/{todo_id}", json={"position": 0}, headers=headers), 200),
        (lambda: client.put(f"/admin/{user.username}/role", json={"role": "user"}, headers=admin.headers), 200),
    ]
    counts = [begins.during(request, status) for request, status in writes]

    assert counts == [1] * len(writes)
