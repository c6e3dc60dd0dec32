"""The list page with lists, tags and views: sidebar, list view, notices, return-to-same-page,
move up / down, and what a viewer or a stranger gets."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.core.config import Settings
from backend.test.factories import Account, Pages, use_session
from backend.test.routers.test_lists import add


def act_as(client: TestClient, settings: Settings, account: Account) -> str:
    return use_session(client, settings, account)


class TestListPage:
    def test_sidebar_has_lists_with_open_counts_tags_and_views(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        act_as(client, settings, people["editor"])

        _, context = pages.of(client.get("/todo-page"))

        lists = {row["name"]: row for row in context["lists"]}
        assert lists["Work"]["open_count"] == 2
        assert lists["Work"]["role"] == "editor"
        assert "Inbox" in lists
        assert context["tags"] == [{"name": "office", "count": 1}]
        assert set(context["views"]) == {"today", "upcoming", "overdue"}
        shown = {todo["title"]: todo for todo in context["todos"]}
        assert shown["First"]["list_name"] == "Work"
        assert (shown["First"]["can_edit"], shown["First"]["shared"]) == (True, True)
        assert (shown["First"]["created_by"], shown["First"]["repeat"]) == (people["owner"].username, "weekly")

    def test_list_view_shows_the_list_in_its_own_order(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        act_as(client, settings, people["owner"])

        _, context = pages.of(client.get("/todo-page", params={"list_id": work["list"]["id"]}))

        assert context["current_list"]["name"] == "Work"
        assert context["query"].sort == "position"
        assert [todo["title"] for todo in context["todos"]] == ["First", "Second"]
        assert context["return_to"] == f"/todo-page?list_id={work['list']['id']}"

    def test_viewer_sees_read_only_todos(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        act_as(client, settings, people["viewer"])

        _, context = pages.of(client.get("/todo-page", params={"list_id": work["list"]["id"]}))

        assert [todo["can_edit"] for todo in context["todos"]] == [False, False]
        assert context["current_list"]["can_edit"] is False
        assert (context["shown_ids"], context["can_clear"]) == ("", False)

    def test_a_strangers_list_is_a_404_page(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        act_as(client, settings, people["stranger"])

        response = client.get("/todo-page", params={"list_id": work["list"]["id"]})

        assert (response.status_code, pages.of(response)[0]) == (404, "error.html")

    def test_tag_and_view_filters(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        act_as(client, settings, people["owner"])

        _, tagged = pages.of(client.get("/todo-page", params={"tag": "office"}))
        _, today = pages.of(client.get("/todo-page", params={"view": "today"}))

        assert [todo["title"] for todo in tagged["todos"]] == ["First"]
        assert tagged["return_to"] == "/todo-page?tag=office"
        assert today["todos"] == []

    @pytest.mark.parametrize(
        ("params", "notice"),
        [
            ({"notice": "saved"}, "Saved."),
            ({"notice": "completed"}, "Completed."),
            ({"completed": "3"}, "Completed 3 todos."),
            ({"notice": "<b>made up</b>"}, None),
        ],
    )
    def test_confirmations(
        self, client: TestClient, pages: Pages, settings: Settings, user: Account, params: dict[str, str], notice: str
    ) -> None:
        act_as(client, settings, user)

        assert pages.of(client.get("/todo-page", params=params))[1]["notice"] == notice

    def test_added_says_which_list(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        act_as(client, settings, people["owner"])

        _, context = pages.of(client.get("/todo-page", params={"added": work["first"]["id"]}))

        assert context["notice"] == "Added to Work."


class TestReturnToSamePage:
    def test_edit_goes_back_with_saved(self, client: TestClient, csrf: str, pages: Pages, user: Account) -> None:
        todo = add(client, user, title="Old", tags=["home"], repeat="daily")
        back = "/todo-page?sort=title&offset=50"

        _, context = pages.of(client.get(f"/edit-todo-page/{todo['id']}", params={"return_to": back}))
        response = client.post(
            f"/edit-todo-page/{todo['id']}",
            data={"csrf_token": csrf, "title": "New", "tags": context["values"]["tags"], "return_to": back},
            follow_redirects=False,
        )

        assert context["values"]["return_to"] == back
        assert response.headers["location"] == back + "&notice=saved"
        stored = client.get(f"/todos/{todo['id']}", headers=user.headers).json()
        assert (stored["title"], stored["tags"]) == ("New", ["home"])

    def test_edit_page_refuses_an_outside_return(
        self, client: TestClient, csrf: str, pages: Pages, user: Account
    ) -> None:
        todo = add(client, user)

        _, context = pages.of(
            client.get(f"/edit-todo-page/{todo['id']}", params={"return_to": "https://evil.example/"})
        )

        assert context["values"]["return_to"] == "/todo-page"

    def test_delete_goes_back_with_undo(self, client: TestClient, csrf: str, pages: Pages, user: Account) -> None:
        todo = add(client, user, title="Bye")
        back = "/todo-page?priority=3"

        _, context = pages.of(client.get(f"/delete-todo-page/{todo['id']}", params={"return_to": back}))
        response = client.post(
            f"/delete-todo-page/{todo['id']}", data={"csrf_token": csrf, "return_to": back}, follow_redirects=False
        )

        assert context["return_to"] == back
        assert response.headers["location"] == f"{back}&deleted={todo['id']}"
        _, after = pages.of(client.get(response.headers["location"]))
        assert after["undo"] == {"id": todo["id"], "title": "Bye"}

    def test_toggle_says_reopened(self, client: TestClient, csrf: str, user: Account) -> None:
        todo = add(client, user, complete=True)

        response = client.post(
            f"/todo-page/{todo['id']}/toggle",
            data={"csrf_token": csrf, "return_to": "/todo-page?offset=50"},
            follow_redirects=False,
        )

        assert response.headers["location"] == "/todo-page?offset=50&notice=reopened"


class TestMove:
    def test_move_down_and_up(
        self, client: TestClient, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        csrf = act_as(client, settings, people["editor"])
        back = f"/todo-page?list_id={work['list']['id']}"

        response = client.post(
            f"/todo-page/{work['first']['id']}/move",
            data={"csrf_token": csrf, "direction": "down", "return_to": back},
            follow_redirects=False,
        )

        assert response.headers["location"] == back + "&notice=moved"
        order = client.get("/todos/", params={"list_id": work["list"]["id"]}, headers=people["owner"].headers).json()
        assert [todo["title"] for todo in order] == ["Second", "First"]
        client.post(f"/todo-page/{work['first']['id']}/move", data={"csrf_token": csrf, "direction": "up"})
        order = client.get("/todos/", params={"list_id": work["list"]["id"]}, headers=people["owner"].headers).json()
        assert [todo["title"] for todo in order] == ["First", "Second"]

    def test_viewer_gets_a_403_page(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        csrf = act_as(client, settings, people["viewer"])

        response = client.post(f"/todo-page/{work['first']['id']}/move", data={"csrf_token": csrf, "direction": "down"})

        assert (response.status_code, pages.of(response)[0]) == (403, "error.html")
        assert pages.of(response)[1]["message"] == "You can only view this list"

    def test_stranger_gets_a_404_page(
        self, client: TestClient, pages: Pages, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        csrf = act_as(client, settings, people["stranger"])

        response = client.post(f"/todo-page/{work['first']['id']}/move", data={"csrf_token": csrf, "direction": "up"})

        assert response.status_code == 404

    def test_viewer_cannot_toggle_or_delete(
        self, client: TestClient, settings: Settings, people: dict[str, Account], work: dict[str, Any]
    ) -> None:
        csrf = act_as(client, settings, people["viewer"])
        todo_id = work["first"]["id"]

        assert client.post(f"/todo-page/{todo_id}/toggle", data={"csrf_token": csrf}).status_code == 403
        assert client.post(f"/delete-todo-page/{todo_id}", data={"csrf_token": csrf}).status_code == 403
