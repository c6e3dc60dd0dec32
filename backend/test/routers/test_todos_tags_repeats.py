"""Tags, repeats and positions on todos over the JSON API."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.test.factories import Account


def add(client: TestClient, user: Account, **todo: Any) -> dict[str, Any]:
    response = client.post("/todos/todos", json={"title": "T", **todo}, headers=user.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(client: TestClient, user: Account, **params: Any) -> list[str]:
    response = client.get("/todos/", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return [row["title"] for row in response.json()]


class TestTags:
    def test_tags_are_lower_case_sorted_and_unique(self, client: TestClient, user: Account) -> None:
        todo = add(client, user, tags=["Work", "home", "WORK", "a_b-c"])
        assert todo["tags"] == ["a_b-c", "home", "work"]
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json()["tags"] == ["a_b-c", "home", "work"]

    @pytest.mark.parametrize(
        "tags", [["x"] * 0 + [f"t{n}" for n in range(11)], [""], ["a b"], ["x" * 31], ["ü"], [1], "work", ["%"]]
    )
    def test_bad_tags_are_422(self, client: TestClient, user: Account, tags: Any) -> None:
        response = client.post("/todos/todos", json={"title": "T", "tags": tags}, headers=user.headers)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][:2] == ["body", "tags"]

    def test_filter_needs_every_tag_given(self, client: TestClient, user: Account) -> None:
        add(client, user, title="both", tags=["work", "urgent"])
        add(client, user, title="work", tags=["work"])
        add(client, user, title="underscore", tags=["wor_k"])
        add(client, user, title="none")
        assert sorted(titles(client, user, tag="work")) == ["both", "work"]
        assert titles(client, user, tag=["work", "URGENT"]) == ["both"]
        assert titles(client, user, tag="wor_k") == ["underscore"]
        assert titles(client, user, tag="wor") == []
        response = client.get("/todos/", params={"tag": "work"}, headers=user.headers)
        assert response.headers["X-Total-Count"] == "2"

    def test_tag_counts(self, client: TestClient, user: Account, other_user: Account) -> None:
        add(client, user, tags=["work", "home"])
        add(client, user, tags=["work"])
        gone = add(client, user, tags=["trash"])
        client.delete(f"/todos/todo/{gone['id']}", headers=user.headers)
        add(client, other_user, tags=["secret"])
        assert client.get("/tags/", headers=user.headers).json() == [
            {"name": "home", "count": 1},
            {"name": "work", "count": 2},
        ]

    def test_put_replaces_tags_and_patch_keeps_them(self, client: TestClient, user: Account) -> None:
        todo = add(client, user, tags=["a"])
        patched = client.patch(f"/todos/todo/{todo['id']}", json={"title": "New"}, headers=user.headers).json()
        assert patched["tags"] == ["a"]
        put = client.put(f"/todos/todo/{todo['id']}", json={"title": "New"}, headers=user.headers).json()
        assert put["tags"] == []


class TestRepeats:
    @pytest.mark.parametrize(
        ("rule", "canonical"),
        [("daily", "daily"), ("Weekly", "weekly"), ("every 2 weeks", "every 2 weeks"), ("weekdays", "weekdays")],
    )
    def test_rules_are_stored_in_canonical_form(
        self, client: TestClient, user: Account, rule: str, canonical: str
    ) -> None:
        assert add(client, user, repeat=rule)["repeat"] == canonical

    @pytest.mark.parametrize("rule", ["hourly", "every 0 days", "every day and night", 7, "every 2 years x"])
    def test_unknown_rules_are_422(self, client: TestClient, user: Account, rule: Any) -> None:
        response = client.post("/todos/todos", json={"title": "T", "repeat": rule}, headers=user.headers)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "repeat"]

    def test_completing_creates_the_next_occurrence_once(self, client: TestClient, user: Account) -> None:
        todo = add(
            client,
            user,
            title="Pay rent",
            description="flat",
            priority=4,
            tags=["home"],
            repeat="monthly",
            due_date="2027-01-31",
        )
        done = client.patch(f"/todos/todo/{todo['id']}", json={"complete": True}, headers=user.headers)
        assert done.status_code == 200 and done.json()["complete"] is True
        again = client.patch(f"/todos/todo/{todo['id']}", json={"complete": True}, headers=user.headers)
        assert again.status_code == 200
        rows = client.get("/todos/", params={"sort": "created_at"}, headers=user.headers).json()
        assert [(row["title"], row["complete"], row["due_date"]) for row in rows] == [
            ("Pay rent", True, "2027-01-31"),
            ("Pay rent", False, "2027-02-28"),
        ]
        following = rows[1]
        assert (following["description"], following["priority"], following["tags"], following["repeat"]) == (
            "flat",
            4,
            ["home"],
            "monthly",
        )
        assert following["list_id"] == todo["list_id"]

    def test_a_repeating_todo_without_a_due_date_just_completes(self, client: TestClient, user: Account) -> None:
        todo = add(client, user, repeat="daily")
        client.patch(f"/todos/todo/{todo['id']}", json={"complete": True}, headers=user.headers)
        assert len(client.get("/todos/", headers=user.headers).json()) == 1

    def test_simultaneous_completions_create_one_occurrence(self, client: TestClient, user: Account) -> None:
        todo = add(client, user, repeat="weekly", due_date=(datetime.now(UTC).date() + timedelta(days=1)).isoformat())
        barrier = threading.Barrier(4)
        statuses: list[int] = []

        def complete() -> None:
            barrier.wait()
            response = client.patch(f"/todos/todo/{todo['id']}", json={"complete": True}, headers=user.headers)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=complete) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 4
        rows = client.get("/todos/", headers=user.headers).json()
        assert len(rows) == 2 and sorted(row["complete"] for row in rows) == [False, True]


class TestPositions:
    def test_moves_within_a_list(self, client: TestClient, user: Account) -> None:
        ids = [add(client, user, title=name)["id"] for name in "ABCD"]
        inbox = add(client, user, title="E")["list_id"]
        moved = client.patch(f"/todos/todo/{ids[3]}", json={"position": 0}, headers=user.headers)
        assert moved.status_code == 200 and moved.json()["position"] == 0
        assert titles(client, user, list_id=inbox) == ["D", "A", "B", "C", "E"]
        client.patch(f"/todos/todo/{ids[3]}", json={"position": 99}, headers=user.headers)
        assert titles(client, user, list_id=inbox) == ["A", "B", "C", "E", "D"]
        client.patch(f"/todos/todo/{ids[0]}", json={"position": 2, "title": "A2"}, headers=user.headers)
        assert titles(client, user, list_id=inbox) == ["B", "C", "A2", "E", "D"]
        assert titles(client, user, list_id=inbox, sort="title") == ["A2", "B", "C", "D", "E"]

    @pytest.mark.parametrize("position", [-1, "1", 1.5, 10_000_001])
    def test_bad_positions_are_422(self, client: TestClient, user: Account, position: Any) -> None:
        todo = add(client, user)
        response = client.patch(f"/todos/todo/{todo['id']}", json={"position": position}, headers=user.headers)
        assert response.status_code == 422


class TestViews:
    def test_today_upcoming_and_overdue(self, client: TestClient, user: Account) -> None:
        today = datetime.now(UTC).date()
        add(client, user, title="yesterday", due_date=(today - timedelta(days=1)).isoformat())
        add(client, user, title="done late", due_date=(today - timedelta(days=1)).isoformat(), complete=True)
        add(client, user, title="today", due_date=today.isoformat())
        add(client, user, title="in 6 days", due_date=(today + timedelta(days=6)).isoformat())
        add(client, user, title="in 7 days", due_date=(today + timedelta(days=7)).isoformat())
        add(client, user, title="undated")
        assert titles(client, user, view="today") == ["today"]
        assert sorted(titles(client, user, view="upcoming")) == ["in 6 days", "today"]
        assert titles(client, user, view="overdue") == ["yesterday"]
        assert client.get("/todos/", params={"view": "someday"}, headers=user.headers).status_code == 422
