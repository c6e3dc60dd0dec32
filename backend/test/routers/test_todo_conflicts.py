"""The edit page sends the version it was opened with: a stale one shows the conflict
screen (409, nothing written), a deleted todo the deleted screen (404), both with what was typed."""

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.http import matches
from backend.routers import todo_pages as todo_routes
from backend.services import todos as todo_service
from backend.test.factories import Account, Pages, count_todos, make_todo, principal_of
from backend.test.routers.conftest import MakeTodo

FORM_FIELDS = ("title", "description", "priority", "due_date", "due_time", "remind", "remind_custom", "remind_keep")


def page_url(todo: Mapping[str, Any]) -> str:
    return f"/edit-todo-page/{todo['id']}"


def stored(client: TestClient, user: Account, todo: Mapping[str, Any]) -> Any:
    return client.get(f"/todos/{todo['id']}", headers=user.headers)


def posted(values: Mapping[str, Any], csrf: str, **over: Any) -> dict[str, str]:
    """The form a browser posts for `values` (a page's context), with changes."""
    fields = {**values, **over}
    data = {name: "" if fields.get(name) is None else str(fields[name]) for name in (*FORM_FIELDS, "version")}
    if fields.get("complete"):
        data["complete"] = "on"
    return {**data, "csrf_token": csrf}


def opened(client: TestClient, pages: Pages, todo: Mapping[str, Any]) -> dict[str, Any]:
    """Open the edit page; the values its form holds."""
    response = client.get(page_url(todo))
    assert response.status_code == 200
    return dict(pages.of(response)[1]["values"])


def changed_elsewhere(client: TestClient, user: Account, todo: Mapping[str, Any], **change: Any) -> Any:
    response = client.patch(f"/todos/todo/{todo['id']}", json=change, headers=user.headers)
    assert response.status_code == 200
    return response.json()


def saved_after_delete(
    client: TestClient, pages: Pages, csrf: str, user: Account, todo: Mapping[str, Any], **typed: Any
) -> Any:
    """Open the edit page, delete the todo through the API, then save `typed`."""
    values = opened(client, pages, todo)
    assert client.delete(f"/todos/todo/{todo['id']}", headers=user.headers).status_code == 204
    return client.post(page_url(todo), data=posted(values, csrf, **typed))


def after_the_check(monkeypatch: pytest.MonkeyPatch, change: Callable[[], object]) -> None:
    """Make `change` happen after the page compared versions, before it writes."""

    def matches_then_changed(header: str | None, tag: str) -> bool:
        found = matches(header, tag)  # the version is still the one opened...
        change()  # ...until now
        return found

    monkeypatch.setattr(todo_routes, "matches", matches_then_changed)


def rows(context: Mapping[str, Any]) -> dict[str, tuple[object, object, bool]]:
    return {row.field: (row.theirs, row.mine, row.differs) for row in context["conflict"]}


class TestEditPageVersion:
    def test_the_form_carries_the_etag_of_the_todo_it_shows(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Versioned")

        values = opened(client, pages, todo)

        assert values["version"] == stored(client, user, todo).headers["ETag"]

    def test_an_unchanged_todo_saves_with_its_version(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        values = opened(client, pages, todo)

        response = client.post(page_url(todo), data=posted(values, csrf, title="New"), follow_redirects=False)

        assert (response.status_code, response.headers["location"]) == (303, "/todo-page?notice=saved")
        assert stored(client, user, todo).json()["title"] == "New"

    def test_without_the_version_field_it_saves_over_any_version_as_before(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        values = opened(client, pages, todo)
        changed_elsewhere(client, user, todo, title="Elsewhere")

        response = client.post(page_url(todo), data=posted(values, csrf, title="Mine", version=""))

        assert response.history[0].status_code == 303
        assert stored(client, user, todo).json()["title"] == "Mine"


class TestConflict:
    def test_a_stale_version_shows_both_versions_and_writes_nothing(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old", priority=2)
        values = opened(client, pages, todo)
        theirs = changed_elsewhere(client, user, todo, title="Elsewhere", complete=True)

        response = client.post(page_url(todo), data=posted(values, csrf, title="Mine", priority=5))

        name, context = pages.of(response)
        assert (response.status_code, name) == (409, "todo_form.html")
        table = rows(context)
        assert table["title"] == ("Elsewhere", "Mine", True)
        assert table["priority"] == (2, 5, True)
        assert table["complete"] == ("Yes", "No", True)
        assert table["due_date"] == ("Not set", "Not set", False)
        assert set(table) == {"title", "description", "priority", "complete", "due_date", "due_time", "remind_at"}
        # What was typed stays in the form, ready to be posted again over the new version.
        assert (context["values"]["title"], context["values"]["priority"]) == ("Mine", 5)
        assert context["values"]["version"] == stored(client, user, todo).headers["ETag"]
        assert context["todo"]["title"] == "Elsewhere"
        assert stored(client, user, todo).json() == theirs

    def test_keep_mine_saves_what_was_typed_over_the_new_version(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        values = opened(client, pages, todo)
        changed_elsewhere(client, user, todo, title="Elsewhere", complete=True)
        conflict = pages.of(client.post(page_url(todo), data=posted(values, csrf, title="Mine")))[1]

        response = client.post(page_url(todo), data=posted(conflict["values"], csrf), follow_redirects=False)

        assert response.status_code == 303
        assert (stored(client, user, todo).json()["title"], stored(client, user, todo).json()["complete"]) == (
            "Mine",
            False,
        )

    def test_keep_mine_is_a_conflict_again_when_it_changed_yet_again(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        values = opened(client, pages, todo)
        changed_elsewhere(client, user, todo, title="Elsewhere")
        conflict = pages.of(client.post(page_url(todo), data=posted(values, csrf, title="Mine")))[1]
        changed_elsewhere(client, user, todo, title="Again")

        response = client.post(page_url(todo), data=posted(conflict["values"], csrf))

        assert response.status_code == 409
        assert rows(pages.of(response)[1])["title"] == ("Again", "Mine", True)
        assert stored(client, user, todo).json()["title"] == "Again"

    def test_take_theirs_opens_the_other_version_and_leaves_it_as_it_is(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        values = opened(client, pages, todo)
        theirs = changed_elsewhere(client, user, todo, title="Elsewhere")
        client.post(page_url(todo), data=posted(values, csrf, title="Mine"))

        again = opened(client, pages, todo)  # "Take theirs" is a link to the edit page

        assert (again["title"], again["version"]) == ("Elsewhere", stored(client, user, todo).headers["ETag"])
        assert stored(client, user, todo).json() == theirs

    def test_a_change_between_the_check_and_the_write_is_a_conflict_too(
        self,
        client: TestClient,
        pages: Pages,
        csrf: str,
        make: MakeTodo,
        user: Account,
        db_session: Session,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        todo = make(title="Old")
        values = opened(client, pages, todo)

        principal = principal_of(db_session, user.id)
        after_the_check(
            monkeypatch, lambda: todo_service.set_complete(db_session, principal=principal, todo=todo, complete=True)
        )
        response = client.post(page_url(todo), data=posted(values, csrf, title="Mine"))

        assert response.status_code == 409
        assert rows(pages.of(response)[1])["complete"] == ("Yes", "No", True)
        assert stored(client, user, todo).json()["title"] == "Old"

    def test_the_reminder_and_due_time_are_compared_in_the_user_s_words(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Dentist", due_date="2031-05-06", due_time="10:30")
        values = opened(client, pages, todo)
        changed_elsewhere(client, user, todo, due_time="11:00", remind_at="2031-05-06T10:00:00Z")

        response = client.post(page_url(todo), data=posted(values, csrf, remind="1h"))

        table = rows(pages.of(response)[1])
        assert table["due_time"] == ("11:00", "10:30", True)
        assert table["remind_at"] == ("06 May 2031, 10:00", "06 May 2031, 09:30", True)


class TestDeletedMeanwhile:
    def test_a_deleted_todo_shows_what_was_typed_and_offers_the_trash(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account, db_session: Session
    ) -> None:
        todo = make(title="Old")

        response = saved_after_delete(client, pages, csrf, user, todo, title="Mine", priority=4)

        name, context = pages.of(response)
        assert (response.status_code, name) == (404, "todo_deleted.html")
        assert (context["typed"]["title"], context["typed"]["priority"]) == ("Mine", 4)
        assert (context["values"]["title"], context["in_trash"], context["todo_id"]) == ("Mine", True, todo["id"])
        assert stored(client, user, todo).status_code == 404
        assert count_todos(db_session, user.id) == 0

    def test_what_was_typed_can_be_saved_as_a_new_todo(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        typed = pages.of(saved_after_delete(client, pages, csrf, user, todo, title="Mine"))[1]["values"]

        response = client.post("/add-todo-page", data=posted(typed, csrf), follow_redirects=False)

        assert response.status_code == 303
        assert [row["title"] for row in client.get("/todos/", headers=user.headers).json()] == ["Mine"]

    def test_the_deleted_todo_can_be_restored_and_edited_again(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        saved_after_delete(client, pages, csrf, user, todo, title="Mine")

        response = client.post(
            f"/todo-page/{todo['id']}/restore",
            data={"csrf_token": csrf, "return_to": page_url(todo)},  # the deleted screen's Restore
            follow_redirects=False,
        )

        assert (response.status_code, response.headers["location"]) == (303, page_url(todo))
        assert opened(client, pages, todo)["title"] == "Old"

    def test_a_delete_between_the_check_and_the_write_shows_the_deleted_screen(
        self,
        client: TestClient,
        pages: Pages,
        csrf: str,
        make: MakeTodo,
        user: Account,
        db_session: Session,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        todo = make(title="Old")
        values = opened(client, pages, todo)

        principal = principal_of(db_session, user.id)
        after_the_check(
            monkeypatch, lambda: todo_service.delete_visible(db_session, principal=principal, todo_id=todo["id"])
        )
        response = client.post(page_url(todo), data=posted(values, csrf, title="Mine"))

        assert (response.status_code, pages.of(response)[0]) == (404, "todo_deleted.html")
        assert pages.of(response)[1]["typed"]["title"] == "Mine"

    def test_someone_else_s_todo_is_not_offered_from_the_trash(
        self, client: TestClient, pages: Pages, csrf: str, other_user: Account, db_session: Session
    ) -> None:
        theirs = make_todo(db_session, other_user.id, title="Not yours")

        response = client.post(page_url(theirs), data=posted({"title": "Mine", "version": 'W/"x"'}, csrf))

        assert (response.status_code, pages.of(response)[0]) == (404, "todo_deleted.html")
        assert pages.of(response)[1]["in_trash"] is False
        assert count_todos(db_session, other_user.id) == 1

    def test_without_the_version_field_a_missing_todo_is_the_404_page_as_before(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        todo = make(title="Old")
        client.delete(f"/todos/todo/{todo['id']}", headers=user.headers)

        response = client.post(page_url(todo), data={"csrf_token": csrf, "title": "Mine"})

        assert (response.status_code, pages.of(response)[0]) == (404, "error.html")
