"""The list page's forms without JavaScript: quick add, "Complete all shown", "Clear
completed" and its Undo, and the list settings (create, rename, share, remove, delete)."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.test.factories import Account, Pages, count_todos
from backend.test.routers.test_list_page_views import act_as
from backend.test.routers.test_lists import add, new_list


def titles(client: TestClient, user: Account, **params: Any) -> list[str]:
    return [todo["title"] for todo in client.get("/todos/", params=params, headers=user.headers).json()]


class TestQuickAddPage:
    def test_adds_and_returns_saying_where(self, client: TestClient, csrf: str, pages: Pages, user: Account) -> None:
        new_list(client, user, "Work")

        response = client.post(
            "/todo-page/quick",
            data={"csrf_token": csrf, "text": "Call Ann tomorrow #phone @work", "return_to": "/todo-page?sort=title"},
            follow_redirects=False,
        )

        (todo,) = client.get("/todos/", headers=user.headers).json()
        assert (todo["title"], todo["tags"]) == ("Call Ann", ["phone"])
        assert response.headers["location"] == f"/todo-page?sort=title&added={todo['id']}"
        assert pages.of(client.get(response.headers["location"]))[1]["notice"] == "Added to Work."

    def test_in_a_list_view_it_goes_to_that_list(self, client: TestClient, csrf: str, user: Account) -> None:
        listed = new_list(client, user, "Home")

        client.post(
            "/todo-page/quick",
            data={"csrf_token": csrf, "text": "Fix the tap", "return_to": f"/todo-page?list_id={listed['id']}"},
        )

        assert titles(client, user, list_id=listed["id"]) == ["Fix the tap"]

    def test_a_parse_error_shows_the_page_with_what_was_typed(
        self, client: TestClient, csrf: str, pages: Pages, user: Account, db_session: Session
    ) -> None:
        response = client.post(
            "/todo-page/quick",
            data={"csrf_token": csrf, "text": "Lunch @nowhere", "return_to": "/todo-page?priority=2"},
        )

        name, context = pages.of(response)
        assert (response.status_code, name) == (422, "todos.html")
        assert context["quick"] == {
            "text": "Lunch @nowhere",
            "error": "There is no list named “nowhere” that you can add to.",
        }
        assert context["query"].priority == 2
        assert count_todos(db_session) == 0

    def test_empty_text_is_explained(self, client: TestClient, csrf: str, pages: Pages) -> None:
        response = client.post("/todo-page/quick", data={"csrf_token": csrf, "text": "  "})

        assert response.status_code == 422
        assert pages.of(response)[1]["quick"]["error"].startswith("Type what you want to add")

    def test_without_csrf_is_403(self, client: TestClient, csrf: str, db_session: Session) -> None:
        assert client.post("/todo-page/quick", data={"text": "Sneaky"}).status_code == 403
        assert count_todos(db_session) == 0


class TestCompleteShown:
    def test_completes_the_posted_ids_and_returns(self, client: TestClient, csrf: str, user: Account) -> None:
        first, second, other = (add(client, user, title=title) for title in ("A", "B", "C"))

        response = client.post(
            "/todo-page/complete-shown",
            data={"csrf_token": csrf, "ids": f"{first['id']},{second['id']},x", "return_to": "/todo-page?offset=50"},
            follow_redirects=False,
        )

        assert response.headers["location"] == "/todo-page?offset=50&completed=2"
        assert titles(client, user, complete="true", sort="title") == ["A", "B"]
        assert titles(client, user, complete="false") == ["C"]

    def test_a_viewer_gets_a_403_page(
        self,
        client: TestClient,
        pages: Pages,
        settings: Settings,
        people: dict[str, Account],
        work: dict[str, Any],
    ) -> None:
        csrf = act_as(client, settings, people["viewer"])

        response = client.post("/todo-page/complete-shown", data={"csrf_token": csrf, "ids": str(work["first"]["id"])})

        assert (response.status_code, pages.of(response)[0]) == (403, "error.html")

    def test_a_strangers_todos_are_left_alone(
        self,
        client: TestClient,
        settings: Settings,
        people: dict[str, Account],
        work: dict[str, Any],
    ) -> None:
        csrf = act_as(client, settings, people["stranger"])

        response = client.post(
            "/todo-page/complete-shown",
            data={"csrf_token": csrf, "ids": str(work["first"]["id"])},
            follow_redirects=False,
        )

        assert response.headers["location"] == "/todo-page?completed=0"
        assert titles(client, people["owner"], complete="true") == []


class TestClearCompleted:
    def test_clears_the_views_completed_todos_and_undo_restores_them(
        self, client: TestClient, csrf: str, pages: Pages, user: Account
    ) -> None:
        home = new_list(client, user, "Home")
        done_home = add(client, user, title="Done at home", list_id=home["id"], complete=True)
        add(client, user, title="Open at home", list_id=home["id"])
        add(client, user, title="Done elsewhere", complete=True)
        back = f"/todo-page?list_id={home['id']}"

        response = client.post(
            "/todo-page/clear-completed", data={"csrf_token": csrf, "return_to": back}, follow_redirects=False
        )

        assert response.headers["location"] == f"{back}&cleared={done_home['id']}"
        assert titles(client, user, sort="title") == ["Done elsewhere", "Open at home"]
        _, context = pages.of(client.get(response.headers["location"]))
        assert context["cleared"] == {"ids": str(done_home["id"]), "count": 1}
        undo = client.post(
            "/todo-page/restore-cleared",
            data={"csrf_token": csrf, "ids": context["cleared"]["ids"], "return_to": back},
            follow_redirects=False,
        )
        assert undo.headers["location"] == f"{back}&restored=1"
        assert titles(client, user, sort="title") == ["Done at home", "Done elsewhere", "Open at home"]

    def test_nothing_to_clear_says_so(self, client: TestClient, csrf: str, user: Account) -> None:
        add(client, user)

        response = client.post("/todo-page/clear-completed", data={"csrf_token": csrf}, follow_redirects=False)

        assert response.headers["location"] == "/todo-page?notice=nothing-cleared"

    def test_a_viewer_gets_a_403_page(
        self,
        client: TestClient,
        pages: Pages,
        settings: Settings,
        people: dict[str, Account],
        work: dict[str, Any],
    ) -> None:
        csrf = act_as(client, settings, people["viewer"])

        response = client.post(
            "/todo-page/clear-completed",
            data={"csrf_token": csrf, "return_to": f"/todo-page?list_id={work['list']['id']}"},
        )

        assert (response.status_code, pages.of(response)[0]) == (403, "error.html")

    def test_a_stranger_gets_a_404_page(
        self,
        client: TestClient,
        settings: Settings,
        people: dict[str, Account],
        work: dict[str, Any],
    ) -> None:
        csrf = act_as(client, settings, people["stranger"])

        response = client.post(
            "/todo-page/clear-completed",
            data={"csrf_token": csrf, "return_to": f"/todo-page?list_id={work['list']['id']}"},
        )

        assert response.status_code == 404


class TestListSettings:
    def test_create_rename_and_delete(self, client: TestClient, csrf: str, pages: Pages, user: Account) -> None:
        created = client.post("/list-page", data={"csrf_token": csrf, "name": "Garden"}, follow_redirects=False)
        (garden,) = [row for row in client.get("/lists/", headers=user.headers).json() if row["name"] == "Garden"]
        assert created.headers["location"] == f"/todo-page?list_id={garden['id']}&notice=list-created"

        renamed = client.post(
            f"/list-page/{garden['id']}/rename", data={"csrf_token": csrf, "name": "Yard"}, follow_redirects=False
        )
        assert renamed.headers["location"] == f"/list-page/{garden['id']}?notice=renamed"
        _, context = pages.of(client.get(renamed.headers["location"]))
        assert (context["list"]["name"], context["notice"], context["is_owner"]) == ("Yard", "List renamed.", True)

        name, _ = pages.of(client.get(f"/list-page/{garden['id']}/delete"))
        assert name == "list_delete.html"
        deleted = client.post(f"/list-page/{garden['id']}/delete", data={"csrf_token": csrf}, follow_redirects=False)
        assert deleted.headers["location"] == "/todo-page?notice=list-deleted"
        assert "Yard" not in {row["name"] for row in client.get("/lists/", headers=user.headers).json()}

    def test_name_errors_are_shown_beside_the_field(
        self, client: TestClient, csrf: str, pages: Pages, user: Account
    ) -> None:
        new_list(client, user, "Work")

        taken = client.post("/list-page", data={"csrf_token": csrf, "name": "work"})
        assert (taken.status_code, pages.of(taken)[0]) == (422, "list_new.html")
        assert pages.of(taken)[1]["errors"] == {"name": ["You already have a list named “work”"]}

        empty = client.post("/list-page", data={"csrf_token": csrf, "name": ""})
        assert empty.status_code == 422
        assert pages.of(empty)[1]["errors"] == {"name": ["Enter a name"]}

    def test_share_and_remove(
        self, client: TestClient, csrf: str, pages: Pages, user: Account, other_user: Account
    ) -> None:
        listed = new_list(client, user, "Work")

        shared = client.post(
            f"/list-page/{listed['id']}/members",
            data={"csrf_token": csrf, "username": other_user.username, "role": "editor"},
            follow_redirects=False,
        )
        assert shared.headers["location"] == f"/list-page/{listed['id']}?notice=shared"
        _, context = pages.of(client.get(shared.headers["location"]))
        assert [(m["username"], m["role"]) for m in context["members"]] == [(other_user.username, "editor")]

        nobody = client.post(
            f"/list-page/{listed['id']}/members",
            data={"csrf_token": csrf, "username": "nobody-at-all", "role": "viewer"},
        )
        assert nobody.status_code == 422
        assert pages.of(nobody)[1]["errors"] == {"username": ["There is no user named “nobody-at-all”"]}

        removed = client.post(
            f"/list-page/{listed['id']}/members/remove",
            data={"csrf_token": csrf, "username": other_user.username},
            follow_redirects=False,
        )
        assert removed.headers["location"] == f"/list-page/{listed['id']}?notice=removed"
        assert client.get(f"/lists/{listed['id']}/members", headers=user.headers).json() == []

    def test_members_see_the_page_without_forms_and_get_403_for_them(
        self,
        client: TestClient,
        pages: Pages,
        settings: Settings,
        people: dict[str, Account],
        work: dict[str, Any],
    ) -> None:
        list_id = work["list"]["id"]
        csrf = act_as(client, settings, people["editor"])

        _, context = pages.of(client.get(f"/list-page/{list_id}"))
        assert context["is_owner"] is False
        for path, data in (
            (f"/list-page/{list_id}/rename", {"name": "Mine"}),
            (f"/list-page/{list_id}/members", {"username": people["stranger"].username, "role": "viewer"}),
            (f"/list-page/{list_id}/members/remove", {"username": people["viewer"].username}),
            (f"/list-page/{list_id}/delete", {}),
        ):
            response = client.post(path, data={"csrf_token": csrf, **data})
            assert (response.status_code, pages.of(response)[0]) == (403, "error.html"), path
        assert client.get(f"/list-page/{list_id}/delete").status_code == 403

    def test_a_member_may_leave(
        self,
        client: TestClient,
        settings: Settings,
        people: dict[str, Account],
        work: dict[str, Any],
    ) -> None:
        csrf = act_as(client, settings, people["viewer"])

        response = client.post(
            f"/list-page/{work['list']['id']}/members/remove",
            data={"csrf_token": csrf, "username": people["viewer"].username},
            follow_redirects=False,
        )

        assert response.headers["location"] == "/todo-page"

    def test_strangers_get_404_pages(
        self,
        client: TestClient,
        pages: Pages,
        settings: Settings,
        people: dict[str, Account],
        work: dict[str, Any],
    ) -> None:
        list_id = work["list"]["id"]
        csrf = act_as(client, settings, people["stranger"])

        assert client.get(f"/list-page/{list_id}").status_code == 404
        response = client.post(f"/list-page/{list_id}/rename", data={"csrf_token": csrf, "name": "Mine"})
        assert (response.status_code, pages.of(response)[0]) == (404, "error.html")
        assert (
            client.post(
                f"/list-page/{list_id}/members", data={"csrf_token": csrf, "username": "x", "role": "viewer"}
            ).status_code
            == 404
        )
