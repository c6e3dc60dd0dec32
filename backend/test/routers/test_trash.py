"""The trash: deleting moves a todo there, `GET /todos/trash` lists it, restore puts it back; Undo on the page."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Todo
from backend.services.trash import NOT_IN_TRASH
from backend.test.factories import Account, Pages, make_todo
from backend.test.routers.conftest import MakeTodo, ids, total

TRASH = "/todos/trash"


def delete(client: TestClient, user: Account, todo_id: int) -> Any:
    return client.delete(f"/todos/todo/{todo_id}", headers=user.headers)


def restore(client: TestClient, user: Account, todo_id: int) -> Any:
    return client.post(f"/todos/todo/{todo_id}/restore", headers=user.headers)


class TestApi:
    def test_a_deleted_todo_leaves_the_list_and_waits_in_the_trash(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        kept, gone = make(title="Kept"), make(title="Gone")

        assert delete(client, user, gone["id"]).status_code == 204

        assert client.get(f"/todos/{gone['id']}", headers=user.headers).status_code == 404
        listing = client.get("/todos/", headers=user.headers)
        assert (ids(listing), total(listing)) == ([kept["id"]], 1)
        trash = client.get(TRASH, headers=user.headers)
        assert trash.status_code == 200
        (item,) = trash.json()
        assert (item["id"], item["title"], total(trash)) == (gone["id"], "Gone", 1)
        assert item["deleted_at"].endswith("Z")

    def test_the_trash_is_newest_first_and_paged(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todos = [make(title=f"t{n}") for n in range(3)]
        for todo in todos:
            delete(client, user, todo["id"])

        first = client.get(TRASH, params={"limit": 2}, headers=user.headers)
        second = client.get(TRASH, params={"limit": 2, "offset": 2}, headers=user.headers)

        assert ids(first) + ids(second) == [todos[2]["id"], todos[1]["id"], todos[0]["id"]]
        assert total(first) == 3

    def test_restore_puts_it_back_with_the_same_id(self, client: TestClient, user: Account, make: MakeTodo) -> None:
        todo = make(title="Buy milk", priority=4)
        delete(client, user, todo["id"])

        response = restore(client, user, todo["id"])

        assert response.status_code == 200
        assert {k: response.json()[k] for k in ("id", "title", "priority")} == {
            "id": todo["id"],
            "title": "Buy milk",
            "priority": 4,
        }
        listing = client.get("/todos/", headers=user.headers)
        assert (ids(listing), total(listing)) == ([todo["id"]], 1)
        assert client.get(TRASH, headers=user.headers).json() == []

    def test_only_todos_in_the_callers_trash_can_be_restored(
        self, client: TestClient, user: Account, other_user: Account, make: MakeTodo
    ) -> None:
        live, trashed = make(), make()
        delete(client, user, trashed["id"])

        assert restore(client, user, live["id"]).json() == {"detail": NOT_IN_TRASH}
        assert restore(client, user, live["id"]).status_code == 404
        assert restore(client, other_user, trashed["id"]).status_code == 404
        assert client.get(TRASH, headers=other_user.headers).json() == []
        assert restore(client, user, 10**9).status_code == 404

    def test_a_trashed_todo_cannot_be_changed_or_deleted_again(
        self, client: TestClient, user: Account, make: MakeTodo
    ) -> None:
        todo = make()
        delete(client, user, todo["id"])

        assert (
            client.patch(f"/todos/todo/{todo['id']}", json={"complete": True}, headers=user.headers).status_code == 404
        )
        assert delete(client, user, todo["id"]).status_code == 404
        assert total(client.get(TRASH, headers=user.headers)) == 1

    def test_an_admin_delete_removes_it_for_good_from_the_trash_too(
        self, client: TestClient, user: Account, admin: Account, make: MakeTodo, db_session: Session
    ) -> None:
        todo, other = make(), make()
        delete(client, user, todo["id"])

        assert client.delete(f"/admin/todo/{todo['id']}", headers=admin.headers).status_code == 204
        assert client.delete(f"/admin/todo/{other['id']}", headers=admin.headers).status_code == 204

        assert db_session.execute(select(Todo.id).where(Todo.owner_id == user.id)).first() is None
        assert total(client.get("/todos/", headers=user.headers)) == 0  # the counter went down once each


class TestPage:
    def test_delete_offers_undo_and_undo_restores(
        self, client: TestClient, csrf: str, pages: Pages, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Buy milk")

        deleted = client.post(f"/delete-todo-page/{todo['id']}", data={"csrf_token": csrf}, follow_redirects=False)
        assert deleted.status_code == 303
        page = client.get(deleted.headers["location"])
        _, context = pages.of(page)
        assert context["undo"] == {"id": todo["id"], "title": "Buy milk"}
        assert "Deleted “Buy milk”." in page.text
        assert context["todos"] == []

        undone = client.post(
            f"/todo-page/{todo['id']}/restore",
            data={"csrf_token": csrf, "return_to": "/todo-page"},
            follow_redirects=False,
        )
        assert (undone.status_code, undone.headers["location"]) == (303, "/todo-page")
        _, context = pages.of(client.get("/todo-page"))
        assert [item["id"] for item in context["todos"]] == [todo["id"]]
        assert context["undo"] is None

    def test_undo_needs_the_csrf_token(self, client: TestClient, csrf: str, make: MakeTodo, user: Account) -> None:
        todo = make()
        delete(client, user, todo["id"])

        response = client.post(f"/todo-page/{todo['id']}/restore", data={}, follow_redirects=False)

        assert response.status_code == 403

    def test_someone_elses_deleted_todo_is_never_named(
        self, client: TestClient, csrf: str, pages: Pages, other_user: Account, db_session: Session
    ) -> None:
        theirs = make_todo(db_session, other_user.id, title="Secret")
        delete(client, other_user, theirs["id"])

        page = client.get("/todo-page", params={"deleted": theirs["id"]})

        assert pages.of(page)[1]["undo"] is None
        assert "Secret" not in page.text
