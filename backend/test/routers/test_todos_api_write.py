"""The owner-scoped todo API's writes: POST /todos/todos, PUT and DELETE /todos/todo/{id}, the write throttle."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.test.conftest import ClientFactory
from backend.test.factories import Account, count_todos, todo_payload
from backend.test.routers.conftest import TODO_FIELDS, MakeTodo, MiB, ids, parse_time, total


class TestCreateTodo:
    def test_anonymous_is_401(self, client: TestClient, db_session: Session) -> None:
        response = client.post("/todos/todos", json=todo_payload())

        assert response.status_code == 401
        assert count_todos(db_session) == 0

    def test_creates_with_defaults_and_a_location(self, client: TestClient, user: Account, db_session: Session) -> None:
        response = client.post("/todos/todos", json={"title": "Buy milk"}, headers=user.headers)

        assert response.status_code == 201
        body = response.json()
        assert set(body) == TODO_FIELDS
        assert body["owner_id"] == user.id
        assert body["title"] == "Buy milk"
        assert body["description"] == ""
        assert body["priority"] == 3
        assert body["complete"] is False
        assert body["due_date"] is None
        assert response.headers["Location"] == f"/todos/{body['id']}"
        assert count_todos(db_session, user.id) == 1

    def test_location_points_at_the_new_todo(self, client: TestClient, user: Account) -> None:
        created = client.post("/todos/todos", json=todo_payload(title="Find me"), headers=user.headers)

        response = client.get(created.headers["Location"], headers=user.headers)

        assert response.status_code == 200
        assert response.json() == created.json()

    def test_every_field_is_stored(self, client: TestClient, user: Account) -> None:
        payload = {
            "title": "Tax return",
            "description": "All the receipts",
            "priority": 5,
            "complete": True,
            "due_date": "2027-04-30",
        }

        created = client.post("/todos/todos", json=payload, headers=user.headers).json()
        stored = client.get(f"/todos/{created['id']}", headers=user.headers).json()

        assert {key: stored[key] for key in payload} == payload

    def test_title_is_trimmed(self, client: TestClient, user: Account) -> None:
        response = client.post("/todos/todos", json={"title": "   Buy milk \t "}, headers=user.headers)

        assert response.status_code == 201
        assert response.json()["title"] == "Buy milk"

    @pytest.mark.parametrize("title", ["x" * 200, "  " + "x" * 200 + "  ", "x"])
    def test_title_length_edges_are_accepted(self, client: TestClient, user: Account, title: str) -> None:
        response = client.post("/todos/todos", json={"title": title}, headers=user.headers)

        assert response.status_code == 201
        assert response.json()["title"] == title.strip()

    @pytest.mark.parametrize("title", ["", "   ", "\t\n", "x" * 201])
    def test_invalid_title_is_422(self, client: TestClient, user: Account, title: str) -> None:
        response = client.post("/todos/todos", json={"title": title}, headers=user.headers)

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "title"]

    def test_missing_title_is_422(self, client: TestClient, user: Account) -> None:
        assert client.post("/todos/todos", json={"priority": 2}, headers=user.headers).status_code == 422

    def test_description_of_2000_characters_is_accepted(self, client: TestClient, user: Account) -> None:
        response = client.post("/todos/todos", json=todo_payload(description="d" * 2000), headers=user.headers)

        assert response.status_code == 201
        assert len(response.json()["description"]) == 2000

    def test_description_of_2001_characters_is_422(self, client: TestClient, user: Account) -> None:
        response = client.post("/todos/todos", json=todo_payload(description="d" * 2001), headers=user.headers)

        assert response.status_code == 422

    @pytest.mark.parametrize("priority", [1, 5])
    def test_priority_edges_are_accepted(self, client: TestClient, user: Account, priority: int) -> None:
        response = client.post("/todos/todos", json=todo_payload(priority=priority), headers=user.headers)

        assert response.status_code == 201
        assert response.json()["priority"] == priority

    @pytest.mark.parametrize("priority", [0, 6, -1, 100])
    def test_priority_out_of_range_is_422(self, client: TestClient, user: Account, priority: int) -> None:
        response = client.post("/todos/todos", json=todo_payload(priority=priority), headers=user.headers)

        assert response.status_code == 422

    @pytest.mark.parametrize("field", ["owner_id", "id", "created_at", "colour"])
    def test_unknown_field_is_422(self, client: TestClient, user: Account, field: str) -> None:
        response = client.post("/todos/todos", json=todo_payload(**{field: 1}), headers=user.headers)

        assert response.status_code == 422

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("title", 123),
            ("title", None),
            ("title", ["a list"]),
            ("priority", "high"),
            ("priority", 2.5),
            ("complete", "maybe"),
            ("due_date", "tomorrow"),
            ("due_date", "2026-13-01"),
            ("description", {"an": "object"}),
        ],
    )
    def test_wrong_type_is_422(self, client: TestClient, user: Account, field: str, value: object) -> None:
        response = client.post("/todos/todos", json=todo_payload(**{field: value}), headers=user.headers)

        assert response.status_code == 422

    @pytest.mark.parametrize(
        "body",
        [b'{"title": "unterminated', b"not json at all", b"", b"[1, 2]", b'"just a string"', b"\xff\xfe"],
        ids=["truncated", "text", "empty", "array", "string", "binary"],
    )
    def test_malformed_body_is_422(self, client: TestClient, user: Account, body: bytes) -> None:
        response = client.post(
            "/todos/todos", content=body, headers={**user.headers, "Content-Type": "application/json"}
        )

        assert response.status_code == 422

    def test_a_body_that_is_not_utf8_gets_a_documented_4xx(self, client: TestClient, user: Account) -> None:
        response = client.post(
            "/todos/todos",
            content=b'{"title": "\xc3\x28"}',
            headers={**user.headers, "Content-Type": "application/json"},
        )

        documented = client.get("/openapi.json").json()["paths"]["/todos/todos"]["post"]["responses"]
        assert 400 <= response.status_code < 500
        assert str(response.status_code) in documented

    def test_a_lone_surrogate_escape_is_refused_not_a_500(self, client: TestClient, user: Account) -> None:
        response = client.post(
            "/todos/todos",
            content=b'{"title": "x\\ud800y"}',
            headers={**user.headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 422

    def test_a_nul_character_in_the_title_is_never_a_500(self, client: TestClient, user: Account) -> None:
        response = client.post("/todos/todos", json={"title": "nul\x00byte"}, headers=user.headers)

        assert response.status_code in (201, 422)

    def test_body_over_1_mib_is_413(self, client: TestClient, user: Account, db_session: Session) -> None:
        body = b'{"title": "big", "description": "' + b"a" * MiB + b'"}'

        response = client.post(
            "/todos/todos", content=body, headers={**user.headers, "Content-Type": "application/json"}
        )

        assert response.status_code == 413
        assert isinstance(response.json()["detail"], str)
        assert count_todos(db_session) == 0

    def test_streamed_body_over_1_mib_is_413(self, client: TestClient, user: Account) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"title": "big", "description": "'
            for _ in range(17):
                yield b"a" * 65536
            yield b'"}'

        response = client.post(
            "/todos/todos", content=chunks(), headers={**user.headers, "Content-Type": "application/json"}
        )

        assert response.status_code == 413

    def test_unicode_and_emoji_round_trip(self, client: TestClient, user: Account) -> None:
        title = "Café ☕ 🚀 日本語 — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩‍👩‍👧 Ωmega"
        description = "Emoji 😀😃😄 and ñ, ü, ß, Привет, עברית, 中文, 🏳️‍🌈"

        created = client.post(
            "/todos/todos", json=todo_payload(title=title, description=description), headers=user.headers
        )
        read = client.get(f"/todos/{created.json()['id']}", headers=user.headers).json()
        found = client.get("/todos/", params={"q": "🚀"}, headers=user.headers).json()

        assert created.status_code == 201
        assert read["title"] == title
        assert read["description"] == description
        assert [item["id"] for item in found] == [read["id"]]

    def test_200_four_byte_characters_fit_in_a_title(self, client: TestClient, user: Account) -> None:
        title = "🚀" * 200

        created = client.post("/todos/todos", json={"title": title}, headers=user.headers)

        assert created.status_code == 201
        assert client.get(f"/todos/{created.json()['id']}", headers=user.headers).json()["title"] == title


class TestUpdateTodo:
    def test_anonymous_is_401(self, client: TestClient, make: MakeTodo) -> None:
        todo = make()

        assert client.put(f"/todos/todo/{todo['id']}", json=todo_payload()).status_code == 401

    def test_replaces_every_editable_field(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(title="Old", description="old", priority=1, complete=False)
        payload = {
            "title": "New",
            "description": "new words",
            "priority": 5,
            "complete": True,
            "due_date": "2027-01-31",
        }

        response = client.put(f"/todos/todo/{todo['id']}", json=payload, headers=user.headers)

        assert response.status_code == 200
        body = response.json()
        assert {key: body[key] for key in payload} == payload
        assert body["id"] == todo["id"]
        assert body["owner_id"] == user.id
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json() == body

    def test_omitted_fields_take_their_defaults(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(title="Old", description="old", priority=1, complete=True, due_date=date(2026, 5, 1))

        body = client.put(f"/todos/todo/{todo['id']}", json={"title": "Only title"}, headers=user.headers).json()

        assert body["title"] == "Only title"
        assert (body["description"], body["priority"], body["complete"], body["due_date"]) == ("", 3, False, None)

    def test_updated_at_moves_and_created_at_stays(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make()
        before = client.get(f"/todos/{todo['id']}", headers=user.headers).json()

        after = client.put(f"/todos/todo/{todo['id']}", json=todo_payload(), headers=user.headers).json()

        assert after["created_at"] == before["created_at"]
        assert parse_time(after["updated_at"]) > parse_time(before["updated_at"])

    def test_another_users_todo_is_404_and_unchanged(
        self, client: TestClient, user: Account, other_user: Account, make: MakeTodo
    ) -> None:
        todo = make(title="Mine")

        response = client.put(f"/todos/todo/{todo['id']}", json={"title": "Hijacked"}, headers=other_user.headers)

        assert response.status_code == 404
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json()["title"] == "Mine"

    def test_missing_todo_is_404(self, client: TestClient, user: Account) -> None:
        assert client.put("/todos/todo/999999", json=todo_payload(), headers=user.headers).status_code == 404

    @pytest.mark.parametrize("todo_id", ["0", "-3", "abc"])
    def test_invalid_id_is_422(self, client: TestClient, user: Account, todo_id: str) -> None:
        assert client.put(f"/todos/todo/{todo_id}", json=todo_payload(), headers=user.headers).status_code == 422

    @pytest.mark.parametrize(
        "payload",
        [{"title": "   "}, {"title": "x" * 201}, {"title": "ok", "priority": 6}, {"title": "ok", "owner_id": 2}],
        ids=["blank-title", "long-title", "priority-6", "unknown-field"],
    )
    def test_invalid_body_is_422_and_changes_nothing(
        self, client: TestClient, user: Account, make: MakeTodo, payload: dict[str, Any]
    ) -> None:
        todo = make(title="Keep")

        response = client.put(f"/todos/todo/{todo['id']}", json=payload, headers=user.headers)

        assert response.status_code == 422
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json()["title"] == "Keep"

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    def test_an_id_only_validation_accepts_changes_the_todo_the_usual_way(
        self, client: TestClient, user: Account, make: MakeTodo, method: str
    ) -> None:
        # The user check reads the todo along only for a plain number (ReadableTodo).
        todo = make(title="Before")

        response = client.request(method, f"/todos/todo/+{todo['id']}", json={"title": "After"}, headers=user.headers)

        assert (response.status_code, response.json()["title"]) == (200, "After")
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json()["title"] == "After"

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    def test_a_logged_out_session_cannot_change_its_own_todo(
        self, client: TestClient, user: Account, make: MakeTodo, method: str
    ) -> None:
        todo = make(title="Kept")
        assert client.post("/auth/logout", headers=user.headers).status_code == 204

        response = client.request(method, f"/todos/todo/{todo['id']}", json={"title": "Changed"}, headers=user.headers)

        assert response.status_code == 401
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).status_code == 401

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    def test_a_cookie_write_without_csrf_is_403_before_any_404(
        self, client: TestClient, user: Account, make: MakeTodo, method: str
    ) -> None:
        todo = make(title="Kept")
        client.cookies.set("session", user.token)

        missing = client.request(method, "/todos/todo/999999", json={"title": "Changed"})
        present = client.request(method, f"/todos/todo/{todo['id']}", json={"title": "Changed"})

        assert (missing.status_code, present.status_code) == (403, 403)
        assert client.get(f"/todos/{todo['id']}").json()["title"] == "Kept"

    def test_malformed_json_is_422(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make()

        response = client.put(
            f"/todos/todo/{todo['id']}",
            content=b"{not json",
            headers={**user.headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 422


class TestDeleteTodo:
    def test_anonymous_is_401(self, client: TestClient, make: MakeTodo, db_session: Session) -> None:
        todo = make()

        assert client.delete(f"/todos/todo/{todo['id']}").status_code == 401
        assert count_todos(db_session) == 1

    def test_deletes_own_todo(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo, kept = make(), make()

        response = client.delete(f"/todos/todo/{todo['id']}", headers=user.headers)

        assert response.status_code == 204
        assert response.content == b""
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).status_code == 404
        listed = client.get("/todos/", headers=user.headers)
        assert ids(listed) == [kept["id"]]
        assert total(listed) == 1

    def test_another_users_todo_is_404_and_kept(
        self, client: TestClient, other_user: Account, make: MakeTodo, db_session: Session
    ) -> None:
        todo = make()

        response = client.delete(f"/todos/todo/{todo['id']}", headers=other_user.headers)

        assert response.status_code == 404
        assert response.json() == {"detail": "Todo not found"}
        assert count_todos(db_session) == 1

    def test_deleting_twice_is_404(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make()
        client.delete(f"/todos/todo/{todo['id']}", headers=user.headers)

        assert client.delete(f"/todos/todo/{todo['id']}", headers=user.headers).status_code == 404
        assert total(client.get("/todos/", headers=user.headers)) == 0

    @pytest.mark.parametrize("todo_id", ["0", "-1", "abc"])
    def test_invalid_id_is_422(self, client: TestClient, user: Account, todo_id: str) -> None:
        assert client.delete(f"/todos/todo/{todo_id}", headers=user.headers).status_code == 422


class TestWriteThrottle:
    def test_writes_are_limited_per_user_with_retry_after(
        self, client_factory: ClientFactory, user: Account, other_user: Account
    ) -> None:
        client = client_factory(RATE_LIMIT_WRITE="3/minute")
        statuses = [client.post("/todos/todos", json=todo_payload(), headers=user.headers) for _ in range(4)]

        assert [r.status_code for r in statuses] == [201, 201, 201, 429]
        assert 0 < int(statuses[-1].headers["Retry-After"]) <= 60
        assert client.post("/todos/todos", json=todo_payload(), headers=other_user.headers).status_code == 201
        assert client.get("/todos/", headers=user.headers).status_code == 200  # reads are not writes

    def test_a_throttled_change_of_a_missing_todo_is_429(
        self, client_factory: ClientFactory, user: Account, make: MakeTodo
    ) -> None:
        client = client_factory(RATE_LIMIT_WRITE="1/minute")
        todo = make()
        first = client.patch(f"/todos/todo/{todo['id']}", json={"complete": True}, headers=user.headers)
        assert first.status_code == 200

        response = client.patch("/todos/todo/999999", json={"complete": True}, headers=user.headers)

        assert response.status_code == 429  # the limit is counted before the todo is looked for
