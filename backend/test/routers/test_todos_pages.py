"""The todo pages through a session cookie: list, add, edit, toggle and delete."""

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.test.factories import Account, Pages, count_todos, make_todo
from backend.test.routers.conftest import MakeTodo


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

        (todo,) = client.get("/todos/", headers=user.headers).json()
        assert (response.status_code, response.headers["location"]) == (303, f"/todo-page?added={todo['id']}")
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

        assert response.headers["location"] == "/todo-page?sort=title&notice=completed"
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json()["complete"] is True

    def test_toggle_never_redirects_off_site(self, client: TestClient, csrf: str, make: MakeTodo) -> None:
        todo = make()

        response = client.post(
            f"/todo-page/{todo['id']}/toggle",
            data={"csrf_token": csrf, "return_to": "//evil.example/"},
            follow_redirects=False,
        )

        assert response.headers["location"] == "/todo-page?notice=completed"

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
