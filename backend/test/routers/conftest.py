"""Fixtures and response readers shared by the router tests."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.services.todos import TodoRow
from backend.test.factories import DEFAULT_PASSWORD, Account, bearer, make_todo, use_session

TODO_FIELDS = {
    "id",
    "owner_id",
    "title",
    "description",
    "priority",
    "complete",
    "due_date",
    "due_time",
    "remind_at",
    "created_at",
    "updated_at",
    "list_id",
    "position",
    "tags",
    "repeat",
    "created_by",
    "updated_by",
}
MiB = 1024 * 1024

MakeTodo = Callable[..., TodoRow]

USER_FIELDS = {
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "phone_number",
    "role",
    "is_active",
    "timezone",
    "theme",
    "created_at",
}


@pytest.fixture
def make(db_session: Session, user: Account) -> MakeTodo:
    """Todos of `user`, made through the service layer."""
    return lambda **over: make_todo(db_session, user.id, **over)


@pytest.fixture
def csrf(client: TestClient, settings: Settings, user: Account) -> str:
    """`client` acts as `user`'s browser; the session's CSRF token."""
    return use_session(client, settings, user)


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()]


def total(response: Any) -> int:
    return int(response.headers["X-Total-Count"])


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def whoami(client: TestClient, token: str) -> int:
    return client.get("/user/", headers=bearer(token)).status_code


def error_types(response: Any) -> set[str]:
    return {item["type"] for item in response.json()["detail"]}


def error_fields(response: Any) -> set[str]:
    return {item["loc"][-1] for item in response.json()["detail"]}


def assert_no_secrets(text: str) -> None:
    lowered = text.lower()
    assert "hashed_password" not in lowered
    assert "$argon2" not in lowered
    assert DEFAULT_PASSWORD.lower() not in lowered


@pytest.fixture
def people(account_factory: Callable[..., Account]) -> dict[str, Account]:
    """An owner, an editor, a viewer and a stranger."""
    return {name: account_factory() for name in ("owner", "editor", "viewer", "stranger")}


@pytest.fixture
def work(client: TestClient, people: dict[str, Account]) -> dict[str, Any]:
    """The owner's list "Work", shared with the editor and the viewer, holding two todos."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=people["owner"].headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    listed = post("/lists/", {"name": "Work"})
    for role in ("editor", "viewer"):
        post(f"/lists/{listed['id']}/members", {"username": people[role].username, "role": role})
    first = post("/todos/todos", {"title": "First", "list_id": listed["id"], "tags": ["office"], "repeat": "weekly"})
    second = post("/todos/todos", {"title": "Second", "list_id": listed["id"]})
    return {"list": listed, "first": first, "second": second}
