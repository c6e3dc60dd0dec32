"""The owner-scoped todo API's reads: GET /todos/ (filters, sorting, paging, ETags, gzip) and GET /todos/{id}."""

import gzip
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.test.factories import Account, make_todo, todo_payload
from backend.test.routers.conftest import TODO_FIELDS, MakeTodo, ids, parse_time, total


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

    def test_a_logged_out_session_cannot_list_its_todos(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        make()
        assert client.post("/auth/logout", headers=user.headers).status_code == 204

        response = client.get("/todos/", headers=user.headers)

        assert response.status_code == 401

    def test_a_member_of_a_shared_list_sees_its_todos_with_their_own(
        self, client: TestClient, user: Account, other_user: Account, make: MakeTodo
    ) -> None:
        # On PostgreSQL the user check reads the caller's own page along (ListingTodos); a
        # sharer's list is wider, so it must be read again.
        theirs = make(title="Shared with me")
        inbox = client.get("/lists/", headers=user.headers).json()[0]["id"]
        member = {"username": other_user.username, "role": "viewer"}
        assert client.post(f"/lists/{inbox}/members", json=member, headers=user.headers).status_code == 201
        mine = client.post("/todos/todos", json={"title": "Mine"}, headers=other_user.headers).json()

        response = client.get("/todos/", headers=other_user.headers)

        assert sorted(ids(response)) == sorted([theirs["id"], mine["id"]])
        assert total(response) == 2

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

    def test_the_query_is_read_before_the_session_as_fastapi_resolved_them(self, client: TestClient) -> None:
        # The route resolves both itself (routers/todos.list_todos), in FastAPI's order.
        assert client.get("/todos/", params={"limit": "0"}).status_code == 422
        assert client.get("/todos/", params={"limit": "5"}).status_code == 401

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

    @pytest.mark.parametrize("todo_id", ["0", "-1", "abc", "1.5", str(2**63), str(2**31), "\u0661"])
    def test_invalid_id_is_422(self, client: TestClient, user: Account, todo_id: str) -> None:
        assert client.get(f"/todos/{todo_id}", headers=user.headers).status_code == 422

    @pytest.mark.parametrize(
        ("todo_id", "kind", "message"),
        [
            ("abc", "int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
            ("0", "greater_than_equal", "Input should be greater than or equal to 1"),
            (str(2**31), "less_than_equal", "Input should be less than or equal to 2147483647"),
        ],
    )
    def test_an_invalid_id_is_described_as_fastapi_describes_a_path_parameter(
        self, client: TestClient, user: Account, todo_id: str, kind: str, message: str
    ) -> None:
        # ReadableTodo reads the id itself (dependencies.py): its 422 must be the one a
        # declared `TodoId` path parameter gave.
        expected = {"detail": [{"type": kind, "loc": ["path", "todo_id"], "msg": message, "input": todo_id}]}
        for method in ("GET", "PUT", "PATCH"):
            path = f"/todos/{todo_id}" if method == "GET" else f"/todos/todo/{todo_id}"
            response = client.request(
                method, path, json=None if method == "GET" else {"title": "x"}, headers=user.headers
            )
            assert (response.status_code, response.json()) == (422, expected)

    def test_an_invalid_id_without_a_session_is_401(self, client: TestClient) -> None:
        assert client.get("/todos/abc").status_code == 401

    def test_the_id_and_if_match_are_documented_as_declared_parameters(self, client: TestClient) -> None:
        # The routes read them themselves; OpenAPI still lists them (core/openapi_params.py).
        paths = client.get("/openapi.json").json()["paths"]
        todo_id = {
            "name": "todo_id",
            "in": "path",
            "required": True,
            "description": "The todo's id",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": 2**31 - 1,
                "title": "Todo Id",
                "description": "The todo's id",
            },
        }
        read = paths["/todos/{todo_id}"]["get"]
        assert read["parameters"] == [todo_id]
        assert "422" in read["responses"]
        for method in ("put", "patch"):
            names = [(p["in"], p["name"]) for p in paths["/todos/todo/{todo_id}"][method]["parameters"]]
            assert names == [("path", "todo_id"), ("header", "if-match")]

    def test_the_reads_name_the_bearer_scheme_as_the_writes_do(self, client: TestClient) -> None:
        # The two reads resolve the signed-in user themselves (core/openapi_params.security_of).
        paths = client.get("/openapi.json").json()["paths"]
        bearer: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}]
        assert paths["/todos/todo/{todo_id}"]["put"]["security"] == bearer
        assert paths["/todos/{todo_id}"]["get"]["security"] == bearer
        assert paths["/todos/"]["get"]["security"] == bearer

    def test_an_id_only_validation_accepts_reads_the_todo_the_usual_way(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        # The user check reads the todo along only for a plain number; any other spelling
        # FastAPI takes for the same id must answer just the same.
        todo = make(title="Spelled differently")

        plain = client.get(f"/todos/{todo['id']}", headers=user.headers)
        for spelling in (f"+{todo['id']}", f"{todo['id']}.0"):
            other = client.get(f"/todos/{spelling}", headers=user.headers)
            assert (other.status_code, other.json()) == (200, plain.json())

    def test_a_logged_out_session_cannot_read_its_own_todo(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        todo = make()
        assert client.post("/auth/logout", headers=user.headers).status_code == 204

        response = client.get(f"/todos/{todo['id']}", headers=user.headers)

        assert response.status_code == 401

    def test_a_todo_in_the_trash_is_404(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make()
        assert client.delete(f"/todos/todo/{todo['id']}", headers=user.headers).status_code == 204

        response = client.get(f"/todos/{todo['id']}", headers=user.headers)

        assert (response.status_code, response.json()) == (404, {"detail": "Todo not found"})

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


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/todos/todos", "POST"),
        ("GET", "/todos/import", "POST"),
        ("GET", "/todos/quick", "POST"),
        ("POST", "/todos/export", "GET"),
        ("POST", "/todos/trash", "GET"),
    ],
)
def test_a_sibling_of_the_id_segment_is_405_naming_its_method(
    client: TestClient, user: Account, method: str, path: str, allowed: str
) -> None:
    """The literal siblings of `/todos/{todo_id}` are never taken for an id (a 422)."""
    response = client.request(method, path, headers=user.headers)

    assert response.status_code == 405
    assert allowed in response.headers["allow"]
