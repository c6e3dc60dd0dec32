"""The list page people live in (issue: quick add, a list page people can live in): quick
add with and without JavaScript, inline edit, keyboard-only use, drag to reorder, bulk
actions with undo, the sidebar and its phone drawer, and a list shared between two people."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, SessionFactory, User, api_token
from .pages import TodoListPage

LIVE = 2000  # ms: a change made elsewhere shows within this


def _api_list(server: Server, token: str, name: str) -> int:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.post("/lists/", json={"name": name})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _open(page: Page, path: str = "/todo-page") -> TodoListPage:
    todos = TodoListPage(page)
    todos.open(path)
    todos.wait_live()
    todos.mark_document()
    return todos


def test_quick_add_previews_and_adds_without_a_reload(
    open_page: SessionFactory, fresh_user: User, server: Server
) -> None:
    _api_list(server, api_token(server, fresh_user), "Work")
    todos = _open(open_page(fresh_user))

    todos.quick_text.fill("Call Ann tomorrow 9am #phone !4 @work every week")

    expect(todos.quick_chips).to_contain_text(
        ["Title: Call Ann", "Due: ", "List: Work", "Tag: #phone", "Priority: 4", "Repeats: weekly"]
    )
    todos.quick_text.press("Enter")
    expect(todos.titles).to_have_text(["Call Ann"], timeout=LIVE)
    expect(todos.live_status).to_have_text("Added to Work.")
    expect(todos.quick_text).to_have_value("")
    assert todos.same_document()
    item = todos.item("Call Ann")
    expect(item.locator(".tag-link")).to_have_text("#phone")
    expect(item.locator(".repeat-mark")).to_contain_text("Repeats weekly")
    expect(item.locator(".todo-list-name")).to_contain_text("Work")

    todos.quick_text.fill("Lunch @nowhere")
    expect(todos.quick_error).to_have_text("There is no list named “nowhere” that you can add to")
    todos.quick_text.press("Enter")
    expect(todos.quick_text).to_have_value("Lunch @nowhere")
    expect(todos.titles).to_have_count(1)


def test_quick_add_without_javascript(open_page: SessionFactory, fresh_user: User, server: Server) -> None:
    _api_list(server, api_token(server, fresh_user), "Work")
    page = open_page(fresh_user, js=False)
    todos = TodoListPage(page)
    todos.open("/todo-page?sort=title")

    todos.quick_text.fill("Send invoice friday #billing @Work")
    with page.expect_navigation():
        todos.quick_add_button.click()

    expect(todos.page_notice).to_have_text("Added to Work.")
    assert "sort=title" in page.url
    expect(todos.titles).to_have_text(["Send invoice"])

    todos.quick_text.fill("Lunch @nowhere")
    with page.expect_navigation():
        todos.quick_add_button.click()
    expect(todos.quick_error).to_have_text("There is no list named “nowhere” that you can add to.")
    expect(todos.quick_text).to_have_value("Lunch @nowhere")
