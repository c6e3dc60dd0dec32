"""If-Match on PUT and PATCH: a stale version is 412 and writes nothing; PATCH changes only what it names."""

from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.errors import PreconditionFailed
from backend.schemas.todos import TodoUpdate
from backend.services import todos as todo_service
from backend.services.todos import CHANGED_ELSEWHERE
from backend.test.factories import Account, principal_of
from backend.test.routers.conftest import MakeTodo


def url(todo: Mapping[str, Any]) -> str:
    return f"/todos/todo/{todo['id']}"


def read(client: TestClient, user: Account, todo: Mapping[str, Any]) -> Any:
    return client.get(f"/todos/{todo['id']}", headers=user.headers)


class TestPatch:
    def test_changes_only_the_fields_given_and_answers_with_the_whole_todo(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        todo = make(title="Buy milk", description="2 litres", priority=4, due_date="2026-12-24")

        response = client.patch(url(todo), json={"complete": True}, headers=user.headers)

        assert response.status_code == 200
        body = response.json()
        assert body["complete"] is True
        assert {k: body[k] for k in ("title", "description", "priority", "due_date")} == {
            "title": "Buy milk",
            "description": "2 litres",
            "priority": 4,
            "due_date": "2026-12-24",
        }
        assert read(client, user, todo).json() == body

    def test_null_clears_an_optional_field(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(due_date="2026-12-24")

        body = client.patch(url(todo), json={"due_date": None}, headers=user.headers).json()

        assert body["due_date"] is None

    @pytest.mark.parametrize(
        "patch",
        [{"title": None}, {"title": ""}, {"priority": 9}, {"complete": "yes"}, {"owner_id": 2}, {"due_time": "10:00"}],
    )
    def test_bad_values_are_422_and_change_nothing(
        self, client: TestClient, user: Account, make: MakeTodo, patch: dict[str, Any]
    ) -> None:
        todo = make(title="Keep me")
        before = read(client, user, todo).json()

        response = client.patch(url(todo), json=patch, headers=user.headers)

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][0] == "body"
        assert read(client, user, todo).json() == before

    def test_someone_else_s_todo_is_404(self, client: TestClient, other_user: Account, make: MakeTodo) -> None:
        todo = make()

        response = client.patch(url(todo), json={"complete": True}, headers=other_user.headers)

        assert response.status_code == 404


class TestIfMatch:
    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_the_current_version_is_written_and_the_new_etag_returned(
        self, client: TestClient, user: Account, make: MakeTodo, method: str
    ) -> None:
        todo = make(title="Old")
        etag = read(client, user, todo).headers["ETag"]

        response = client.request(
            method.upper(), url(todo), json={"title": "New"}, headers={**user.headers, "If-Match": etag}
        )

        assert response.status_code == 200, response.text
        after = read(client, user, todo)
        assert after.json()["title"] == "New"
        assert response.headers["ETag"] == after.headers["ETag"] != etag

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_a_stale_version_is_412_and_nothing_is_written(
        self, client: TestClient, user: Account, make: MakeTodo, method: str
    ) -> None:
        todo = make(title="Old")
        stale = read(client, user, todo).headers["ETag"]
        client.patch(url(todo), json={"title": "Changed in another tab"}, headers=user.headers)

        response = client.request(
            method.upper(), url(todo), json={"title": "Mine"}, headers={**user.headers, "If-Match": stale}
        )

        assert response.status_code == 412
        assert response.json() == {"detail": CHANGED_ELSEWHERE}
        assert read(client, user, todo).json()["title"] == "Changed in another tab"

    def test_without_if_match_the_last_write_wins_as_before(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        todo = make(title="Old")
        client.patch(url(todo), json={"title": "Other"}, headers=user.headers)

        response = client.put(url(todo), json={"title": "Mine"}, headers=user.headers)

        assert response.status_code == 200
        assert read(client, user, todo).json()["title"] == "Mine"

    def test_a_star_matches_any_current_version(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(title="Old")

        response = client.patch(url(todo), json={"title": "New"}, headers={**user.headers, "If-Match": "*"})

        assert response.status_code == 200


def test_a_write_between_the_check_and_the_update_is_caught_by_the_update(
    client: TestClient, user: Account, make: MakeTodo, db_session: Session
) -> None:
    """The ETag check passes on the row read at the start; the UPDATE itself requires that version."""
    todo = make(title="Old")
    client.patch(url(todo), json={"title": "Meanwhile"}, headers=user.headers)  # after `todo` was read

    with pytest.raises(PreconditionFailed):
        todo_service.replace(
            db_session,
            principal=principal_of(db_session, user.id),
            todo=todo,
            data=TodoUpdate(title="Mine"),
            if_unchanged=True,
        )
    db_session.rollback()
    assert read(client, user, todo).json()["title"] == "Meanwhile"
