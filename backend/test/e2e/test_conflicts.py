"""The edit page against a change made elsewhere: the conflict screen, then "Keep mine" or
"Take theirs", in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import Server, SessionFactory, User, api_add_todo, api_token
from .pages import TodoFormPage, TodoListPage

AT_LIST = re.compile(r"/todo-page(\?notice=saved)?$")  # back on the list, saying "Saved."


def _edit_while_changed_elsewhere(page: Page, server: Server, user: User, title: str) -> TodoFormPage:
    """Open the edit page, type `title`, change the todo through the API, then submit."""
    token = api_token(server, user)
    todo = api_add_todo(server, token, title="Call the bank", priority=2)
    form = TodoFormPage(page)
    response = form.open(f"/edit-todo-page/{todo['id']}")
    assert response is not None and response.status == 200
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        etag = client.get(f"/todos/{todo['id']}").headers["ETag"]
        expect(form.form).to_have_attribute("data-version", etag)
        expect(form.form).to_have_attribute("data-todo-id", str(todo["id"]))
        expect(form.changed_elsewhere).to_be_hidden()
        form.fill(title=title, priority=4)
        changed = client.patch(f"/todos/todo/{todo['id']}", json={"title": "Call the bank today", "complete": True})
        assert changed.status_code == 200
    with page.expect_response(re.compile(r"/edit-todo-page/\d+$")) as answer:
        form.submit()
    assert answer.value.status == 409
    return form


def test_keep_mine_after_a_change_elsewhere(open_page: SessionFactory, fresh_user: User, server: Server) -> None:
    page = open_page(fresh_user)
    form = _edit_while_changed_elsewhere(page, server, fresh_user, "Call the bank about the card")

    expect(form.conflict).to_be_visible()
    expect(form.conflict_row("Title differs")).to_contain_text("Call the bank today")
    expect(form.conflict_row("Title differs")).to_contain_text("Call the bank about the card")
    expect(form.conflict_row("Done differs")).to_contain_text("Yes")
    expect(page.get_by_label("Title")).to_have_value("Call the bank about the card")  # nothing typed is lost

    form.keep_mine()

    expect(page).to_have_url(AT_LIST)
    todos = TodoListPage(page)
    expect(todos.titles).to_have_text(["Call the bank about the card"])
    expect(todos.checkbox("Call the bank about the card")).not_to_be_checked()


def test_take_theirs_after_a_change_elsewhere(open_page: SessionFactory, fresh_user: User, server: Server) -> None:
    page = open_page(fresh_user, js=False)
    form = _edit_while_changed_elsewhere(page, server, fresh_user, "Mine, dropped")

    form.take_theirs()

    expect(form.conflict).to_have_count(0)
    expect(page.get_by_label("Title")).to_have_value("Call the bank today")
    page.goto("/todo-page")
    expect(TodoListPage(page).titles).to_have_text(["Call the bank today"])


def test_an_open_edit_page_says_changed_in_another_tab_as_soon_as_it_happens(
    open_page: SessionFactory, fresh_user: User, server: Server
) -> None:
    page = open_page(fresh_user)
    token = api_token(server, fresh_user)
    todo = api_add_todo(server, token, title="Renew the passport")
    other = api_add_todo(server, token, title="Something else")
    form = TodoFormPage(page)
    form.open(f"/edit-todo-page/{todo['id']}")
    expect(page.locator("html")).to_have_attribute("data-live", "open")

    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        client.patch(f"/todos/todo/{other['id']}", json={"complete": True})  # another todo: no notice
        expect(form.changed_elsewhere).to_be_hidden()
        client.patch(f"/todos/todo/{todo['id']}", json={"title": "Renew the passport this week"})

    expect(form.changed_elsewhere).to_be_visible(timeout=2000)
    expect(form.changed_elsewhere).to_contain_text("Changed in another tab")
