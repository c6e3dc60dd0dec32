"""The owner-scoped todo API: list, read, create, update, delete."""

import gzip
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.services.todos import TodoRow
from backend.test.conftest import ClientFactory
from backend.test.factories import Account, Pages, count_todos, make_todo, todo_payload, use_session

TODO_FIELDS = {
    "id",
    "owner_id",
    "title",
    "description",
    "priority",
    "complete",
    "due_date",
    "created_at",
    "updated_at",
}
MiB = 1024 * 1024

MakeTodo = Callable[..., TodoRow]


@pytest.fixture
def make(db_session: Session, user: Account) -> MakeTodo:
    """Todos of `user`, made through the service layer."""
    return lambda **over: make_todo(db_session, user.id, **over)


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()]


def total(response: Any) -> int:
    return int(response.headers["X-Total-Count"])


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TestListTodos:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        response = client.get("/todos/")

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    def test_empty_list(self, client: TestClient, user: Account) -> None:
        response = client.get("/todos/", headers=user.headers)

        assert response.status_code == 200
        assert response.json() == []
        assert total(response) == 0

    def test_lists_only_the_callers_todos(
        self, client: TestClient, user: Account, other_user: Account, db_session: Session, make: MakeTodo
    ) -> None:
        mine = [make()["id"] for _ in range(2)]
        make_todo(db_session, other_user.id)

        response = client.get("/todos/", headers=user.headers)

        assert response.status_code == 200
        assert sorted(ids(response)) == sorted(mine)
        assert total(response) == 2
        assert all(item["owner_id"] == user.id for item in response.json())

    def test_items_have_every_field_and_aware_timestamps(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        make(title="Buy milk", description="2 litres", priority=4, due_date=date(2026, 12, 24))

        (item,) = client.get("/todos/", headers=user.headers).json()

        assert set(item) == TODO_FIELDS
        assert item["title"] == "Buy milk"
        assert item["description"] == "2 litres"
        assert item["priority"] == 4
        assert item["complete"] is False
        assert item["due_date"] == "2026-12-24"
        assert parse_time(item["created_at"]).tzinfo is not None
        assert parse_time(item["updated_at"]).tzinfo is not None

    @pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False)])
    def test_filter_by_complete(
        self, client: TestClient, user: Account, make: MakeTodo, value: str, expected: bool
    ) -> None:
        done = {make(complete=True)["id"] for _ in range(2)}
        open_ = {make(complete=False)["id"] for _ in range(3)}

        response = client.get("/todos/", params={"complete": value}, headers=user.headers)

        assert set(ids(response)) == (done if expected else open_)
        assert total(response) == len(done if expected else open_)

    def test_filter_by_priority(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        urgent = make(priority=5)["id"]
        make(priority=1)
        make(priority=3)

        response = client.get("/todos/", params={"priority": 5}, headers=user.headers)

        assert ids(response) == [urgent]
        assert total(response) == 1

    def test_search_is_case_insensitive_in_title_and_description(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        in_title = make(title="Buy MILK")["id"]
        in_description = make(title="Shopping", description="oat milk, two cartons")["id"]
        make(title="Walk the dog", description="before noon")

        response = client.get("/todos/", params={"q": "MiLk"}, headers=user.headers)

        assert set(ids(response)) == {in_title, in_description}
        assert total(response) == 2

    @pytest.mark.parametrize("wildcard", ["%", "_"])
    def test_search_treats_sql_wildcards_literally(
        self, client: TestClient, user: Account, make: MakeTodo, wildcard: str
    ) -> None:
        hit = make(title=f"100{wildcard} done")["id"]
        make(title="plain title")

        response = client.get("/todos/", params={"q": wildcard}, headers=user.headers)

        assert ids(response) == [hit]

    def test_a_nul_character_in_the_search_is_never_a_500(self, client: TestClient, user: Account) -> None:
        response = client.get("/todos/", params={"q": "nul\x00byte"}, headers=user.headers)

        assert response.status_code in (200, 422)

    def test_filters_combine(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        hit = make(title="Pay rent", priority=5, complete=False)["id"]
        make(title="Pay rent later", priority=5, complete=True)
        make(title="Pay rent someday", priority=2, complete=False)

        response = client.get("/todos/", params={"q": "rent", "priority": 5, "complete": "false"}, headers=user.headers)

        assert ids(response) == [hit]
        assert total(response) == 1

    def test_default_sort_is_newest_first(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        created = [make()["id"] for _ in range(4)]

        response = client.get("/todos/", headers=user.headers)

        assert ids(response) == created[::-1]

    @pytest.mark.parametrize(
        "sort", ["created_at", "-created_at", "priority", "-priority", "due_date", "-due_date", "title"]
    )
    def test_every_sort_key(self, client: TestClient, user: Account, make: MakeTodo, sort: str) -> None:
        rows = [
            make(title="cherry", priority=2, due_date=date(2026, 3, 1)),
            make(title="apple", priority=5, due_date=None),
            make(title="banana", priority=1, due_date=date(2026, 1, 15)),
            make(title="date", priority=4, due_date=date(2026, 2, 10)),
        ]
        key = sort.lstrip("-")
        descending = sort.startswith("-")
        if key == "created_at":
            expected = [row["id"] for row in sorted(rows, key=lambda row: row["id"], reverse=descending)]
        elif key == "due_date":
            dated = sorted(
                (row for row in rows if row["due_date"]), key=lambda row: row["due_date"] or "", reverse=descending
            )
            expected = [row["id"] for row in dated] + [row["id"] for row in rows if row["due_date"] is None]
        elif key == "priority":
            expected = [row["id"] for row in sorted(rows, key=lambda row: row["priority"], reverse=descending)]
        else:
            assert key == "title"
            expected = [row["id"] for row in sorted(rows, key=lambda row: row["title"], reverse=descending)]

        response = client.get("/todos/", params={"sort": sort}, headers=user.headers)

        assert response.status_code == 200
        assert ids(response) == expected

    def test_paging_with_limit_and_offset(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        created = [make()["id"] for _ in range(5)][::-1]

        first = client.get("/todos/", params={"limit": 2}, headers=user.headers)
        middle = client.get("/todos/", params={"limit": 2, "offset": 2}, headers=user.headers)
        last = client.get("/todos/", params={"limit": 2, "offset": 4}, headers=user.headers)
        beyond = client.get("/todos/", params={"limit": 2, "offset": 10}, headers=user.headers)

        assert ids(first) == created[0:2]
        assert ids(middle) == created[2:4]
        assert ids(last) == created[4:5]
        assert ids(beyond) == []
        assert [total(r) for r in (first, middle, last, beyond)] == [5, 5, 5, 5]

    @pytest.mark.parametrize(
        ("params", "count", "expected_total"),
        [
            ({"limit": 2}, 2, 4),
            ({"limit": 10}, 4, 4),
            ({"limit": 3, "offset": 3}, 1, 4),
            ({"limit": 2, "offset": 10}, 0, 4),
        ],
        ids=["full-page", "partial-page", "last-page", "past-the-end"],
    )
    def test_total_counts_filtered_matches_before_paging(
        self,
        client: TestClient,
        user: Account,
        make: MakeTodo,
        params: dict[str, int],
        count: int,
        expected_total: int,
    ) -> None:
        for _ in range(4):
            make(complete=True)
        for _ in range(3):
            make(complete=False)

        response = client.get("/todos/", params={"complete": "true", **params}, headers=user.headers)

        assert len(response.json()) == count
        assert total(response) == expected_total

    def test_default_limit_is_50(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        for _ in range(51):
            make()

        response = client.get("/todos/", headers=user.headers)

        assert len(response.json()) == 50
        assert total(response) == 51

    def test_limit_100_is_allowed(self, client: TestClient, user: Account) -> None:
        assert client.get("/todos/", params={"limit": 100}, headers=user.headers).status_code == 200

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("complete", "maybe"),
            ("priority", "0"),
            ("priority", "6"),
            ("priority", "high"),
            ("sort", "name"),
            ("sort", "-title"),
            ("sort", ""),
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "ten"),
            ("offset", "-1"),
            ("offset", "1.5"),
            ("q", "x" * 201),
        ],
    )
    def test_invalid_query_parameter_is_422(self, client: TestClient, user: Account, name: str, value: str) -> None:
        response = client.get("/todos/", params={name: value}, headers=user.headers)

        assert response.status_code == 422
        assert any(item["loc"][-1] == name for item in response.json()["detail"])

    def test_etag_and_304(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        make()
        first = client.get("/todos/", headers=user.headers)
        etag = first.headers["ETag"]

        again = client.get("/todos/", headers={**user.headers, "If-None-Match": etag})

        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["ETag"] == etag

    def test_etag_changes_when_a_todo_changes(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(title="Before")
        etag = client.get("/todos/", headers=user.headers).headers["ETag"]

        client.put(f"/todos/todo/{todo['id']}", json=todo_payload(title="After"), headers=user.headers)
        response = client.get("/todos/", headers={**user.headers, "If-None-Match": etag})

        assert response.status_code == 200
        assert response.headers["ETag"] != etag
        assert response.json()[0]["title"] == "After"

    def test_etag_changes_when_a_todo_is_added(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        make()
        etag = client.get("/todos/", headers=user.headers).headers["ETag"]

        client.post("/todos/todos", json=todo_payload(), headers=user.headers)
        response = client.get("/todos/", headers={**user.headers, "If-None-Match": etag})

        assert response.status_code == 200
        assert len(response.json()) == 2

    def test_etag_differs_between_users(
        self, client: TestClient, user: Account, other_user: Account, make: MakeTodo
    ) -> None:
        make()
        etag = client.get("/todos/", headers=user.headers).headers["ETag"]

        response = client.get("/todos/", headers={**other_user.headers, "If-None-Match": etag})

        assert response.status_code == 200
        assert response.json() == []

    def test_large_responses_are_gzipped_when_accepted(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        for _ in range(10):
            make(description="d" * 300)

        response = client.get("/todos/", headers={**user.headers, "Accept-Encoding": "gzip"})

        assert response.headers["Content-Encoding"] == "gzip"
        assert len(response.json()) == 10

    def test_gzip_body_is_smaller_than_the_json(self, user: Account, make: MakeTodo, client: TestClient) -> None:
        for _ in range(10):
            make(description="d" * 300)

        with client.stream("GET", "/todos/", headers={**user.headers, "Accept-Encoding": "gzip"}) as response:
            raw = b"".join(response.iter_raw())

        assert len(gzip.decompress(raw)) > 1024 > len(raw)

    def test_no_gzip_without_accept_encoding(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        for _ in range(10):
            make(description="d" * 300)

        response = client.get("/todos/", headers={**user.headers, "Accept-Encoding": "identity"})

        assert "Content-Encoding" not in response.headers
        assert len(response.content) > 1024

    def test_small_responses_are_not_gzipped(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        make(title="tiny")

        response = client.get("/todos/", headers={**user.headers, "Accept-Encoding": "gzip"})

        assert "Content-Encoding" not in response.headers


class TestReadTodo:
    def test_anonymous_is_401(self, client: TestClient, make: MakeTodo) -> None:
        todo = make()

        assert client.get(f"/todos/{todo['id']}").status_code == 401

    def test_reads_own_todo(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(title="Read me", priority=2)

        response = client.get(f"/todos/{todo['id']}", headers=user.headers)

        assert response.status_code == 200
        body = response.json()
        assert set(body) == TODO_FIELDS
        assert body["id"] == todo["id"]
        assert body["title"] == "Read me"
        assert body["priority"] == 2

    def test_another_users_todo_is_404_not_403(self, client: TestClient, other_user: Account, make: MakeTodo) -> None:
        todo = make()

        response = client.get(f"/todos/{todo['id']}", headers=other_user.headers)

        assert response.status_code == 404
        assert response.json() == {"detail": "Todo not found"}

    def test_someone_elses_and_a_missing_todo_look_the_same(
        self, client: TestClient, other_user: Account, make: MakeTodo
    ) -> None:
        todo = make()

        theirs = client.get(f"/todos/{todo['id']}", headers=other_user.headers)
        missing = client.get(f"/todos/{todo['id'] + 1000}", headers=other_user.headers)

        assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())

    @pytest.mark.parametrize("todo_id", ["0", "-1", "abc", "1.5", str(2**63)])
    def test_invalid_id_is_422(self, client: TestClient, user: Account, todo_id: str) -> None:
        assert client.get(f"/todos/{todo_id}", headers=user.headers).status_code == 422

    def test_etag_and_304(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make()
        etag = client.get(f"/todos/{todo['id']}", headers=user.headers).headers["ETag"]

        response = client.get(f"/todos/{todo['id']}", headers={**user.headers, "If-None-Match": etag})

        assert response.status_code == 304
        assert response.content == b""

    def test_etag_changes_after_an_update(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(title="Before")
        etag = client.get(f"/todos/{todo['id']}", headers=user.headers).headers["ETag"]

        client.put(f"/todos/todo/{todo['id']}", json=todo_payload(title="After"), headers=user.headers)
        response = client.get(f"/todos/{todo['id']}", headers={**user.headers, "If-None-Match": etag})

        assert response.status_code == 200
        assert response.headers["ETag"] != etag
        assert response.json()["title"] == "After"

    def test_a_stale_etag_among_several_still_matches_the_current_one(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        todo = make()
        etag = client.get(f"/todos/{todo['id']}", headers=user.headers).headers["ETag"]

        response = client.get(f"/todos/{todo['id']}", headers={**user.headers, "If-None-Match": f'W/"stale", {etag}'})

        assert response.status_code == 304


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


@pytest.fixture
def csrf(client: TestClient, settings: Settings, user: Account) -> str:
    """`client` acts as `user`'s browser; the session's CSRF token."""
    return use_session(client, settings, user)


class TestTodoPages:
    """The todo pages through a session cookie: template, context, redirects."""

    def test_list_page(self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account) -> None:
        overdue = make(title="Late", due_date=date(2000, 1, 1))

        response = client.get("/todo-page")

        name, context = pages.of(response)
        assert (response.status_code, name) == (200, "todos.html")
        assert {"todos", "query", "paging", "links", "return_to", "has_todos", "csrf_token", "principal"} <= set(
            context
        )
        assert [todo["id"] for todo in context["todos"]] == [overdue["id"]]
        assert context["todos"][0]["overdue"] is True
        assert context["has_todos"] is True
        assert context["csrf_token"] == csrf
        assert context["principal"].id == user.id

    def test_list_page_shows_only_own_todos(
        self, client: TestClient, pages: Pages, csrf: str, other_user: Account, db_session: Session
    ) -> None:
        make_todo(db_session, other_user.id)

        _, context = pages.of(client.get("/todo-page"))

        assert context["todos"] == []
        assert context["has_todos"] is False

    def test_list_page_empty_filter_fields_mean_any(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo
    ) -> None:
        make()

        response = client.get("/todo-page", params={"complete": "", "priority": "", "q": "", "sort": "title"})

        assert response.status_code == 200
        assert len(pages.of(response)[1]["todos"]) == 1

    def test_list_page_links_keep_filters_across_pages(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo
    ) -> None:
        for _ in range(3):
            make(priority=5)

        _, context = pages.of(client.get("/todo-page", params={"priority": 5, "limit": 1, "offset": 1}))

        assert context["links"] == {
            "prev_offset": "/todo-page?priority=5&limit=1&offset=0",
            "next_offset": "/todo-page?priority=5&limit=1&offset=2",
        }
        assert context["paging"]["total"] == 3

    def test_list_page_invalid_filter_is_a_422_page(self, client: TestClient, pages: Pages, csrf: str) -> None:
        response = client.get("/todo-page", params={"priority": 9})

        assert response.status_code == 422
        assert pages.of(response)[0] == "error.html"

    def test_add_page(self, client: TestClient, pages: Pages, csrf: str) -> None:
        name, context = pages.of(client.get("/add-todo-page"))

        assert name == "todo_form.html"
        assert context["todo"] is None
        assert context["values"]["priority"] == 3

    def test_add_form_creates(self, client: TestClient, csrf: str, db_session: Session, user: Account) -> None:
        response = client.post(
            "/add-todo-page",
            data={"csrf_token": csrf, "title": "From the form", "priority": "4", "due_date": "2027-02-03"},
            follow_redirects=False,
        )

        assert (response.status_code, response.headers["location"]) == (303, "/todo-page")
        (todo,) = client.get("/todos/", headers=user.headers).json()
        assert (todo["title"], todo["priority"], todo["due_date"]) == ("From the form", 4, "2027-02-03")

    def test_add_form_errors_are_shown(self, client: TestClient, pages: Pages, csrf: str, db_session: Session) -> None:
        response = client.post("/add-todo-page", data={"csrf_token": csrf, "title": "   ", "priority": "9"})

        name, context = pages.of(response)
        assert (response.status_code, name) == (422, "todo_form.html")
        assert {"title", "priority"} <= set(context["errors"])
        assert count_todos(db_session) == 0

    def test_add_form_without_csrf_is_403(self, client: TestClient, csrf: str, db_session: Session) -> None:
        response = client.post("/add-todo-page", data={"title": "No token"})

        assert response.status_code == 403
        assert count_todos(db_session) == 0

    def test_edit_page(self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo) -> None:
        todo = make(title="Edit me")

        name, context = pages.of(client.get(f"/edit-todo-page/{todo['id']}"))

        assert name == "todo_form.html"
        assert context["todo"]["id"] == todo["id"]
        assert context["values"]["title"] == "Edit me"

    def test_edit_page_of_someone_elses_todo_is_a_404_page(
        self, client: TestClient, pages: Pages, csrf: str, other_user: Account, db_session: Session
    ) -> None:
        theirs = make_todo(db_session, other_user.id)

        response = client.get(f"/edit-todo-page/{theirs['id']}")

        assert response.status_code == 404
        assert pages.of(response)[0] == "error.html"

    def test_edit_form_saves(self, client: TestClient, csrf: str, make: MakeTodo, user: Account) -> None:
        todo = make(title="Old")

        response = client.post(
            f"/edit-todo-page/{todo['id']}",
            data={"csrf_token": csrf, "title": "New", "complete": "on"},
            follow_redirects=False,
        )

        assert response.status_code == 303
        stored = client.get(f"/todos/{todo['id']}", headers=user.headers).json()
        assert (stored["title"], stored["complete"]) == ("New", True)

    def test_edit_form_errors_are_shown(self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo) -> None:
        todo = make(title="Keep")

        response = client.post(f"/edit-todo-page/{todo['id']}", data={"csrf_token": csrf, "title": ""})

        assert response.status_code == 422
        assert "title" in pages.of(response)[1]["errors"]

    def test_toggle_flips_and_returns(self, client: TestClient, csrf: str, make: MakeTodo, user: Account) -> None:
        todo = make(complete=False)

        response = client.post(
            f"/todo-page/{todo['id']}/toggle",
            data={"csrf_token": csrf, "return_to": "/todo-page?sort=title"},
            follow_redirects=False,
        )

        assert response.headers["location"] == "/todo-page?sort=title"
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json()["complete"] is True

    def test_toggle_never_redirects_off_site(self, client: TestClient, csrf: str, make: MakeTodo) -> None:
        todo = make()

        response = client.post(
            f"/todo-page/{todo['id']}/toggle",
            data={"csrf_token": csrf, "return_to": "//evil.example/"},
            follow_redirects=False,
        )

        assert response.headers["location"] == "/todo-page"

    def test_delete_confirmation_page(self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo) -> None:
        todo = make()

        name, context = pages.of(client.get(f"/delete-todo-page/{todo['id']}"))

        assert name == "confirm_delete.html"
        assert context["todo"]["id"] == todo["id"]

    def test_delete_form_deletes(self, client: TestClient, csrf: str, make: MakeTodo, db_session: Session) -> None:
        todo = make()

        response = client.post(f"/delete-todo-page/{todo['id']}", data={"csrf_token": csrf}, follow_redirects=False)

        assert response.status_code == 303
        assert count_todos(db_session) == 0


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
