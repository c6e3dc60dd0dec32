"""Live updates on the todo list (issue 9, the browser): two tabs of one user see each
other's changes without a reload, changes made through the JSON API show up, filters are
respected, and the connection status tells when the socket is lost, back, or the session
ended. Every wait is Playwright's auto-waiting `expect`, never a sleep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, WebSocket, expect

from backend.test.live import LiveServer, free_port

from .conftest import STARTUP_TIMEOUT, ConsoleWatch, Server, SessionFactory, User, api_add_todo, api_token
from .pages import TodoFormPage, TodoListPage
from .test_layout import CONTRAST_PROBLEMS, UNLABELLED

LIVE = 2000  # ms: a change in one tab shows in the other within this (the target)
RECONNECT = 15000  # ms: the server restarts, then the backoff (1 s, 2 s, 4 s…) finds it


def _api(server: Server, token: str) -> httpx.Client:
    return server.client(headers={"Authorization": f"Bearer {token}"})


def _second_tab(page: Page, console: ConsoleWatch) -> Page:
    """Another page of the same browser context: the same user, the same cookies."""
    return console.attach(page.context.new_page())


def _open_list(page: Page, path: str = "/todo-page") -> TodoListPage:
    todos = TodoListPage(page)
    todos.open(path)
    todos.wait_live()
    todos.mark_document()
    return todos


def test_changes_in_one_tab_show_in_the_other(
    open_page: SessionFactory, fresh_user: User, console: ConsoleWatch
) -> None:
    first = open_page(fresh_user)
    second = _second_tab(first, console)
    watcher = _open_list(second)
    expect(watcher.empty_new).to_be_visible()
    expect(second.locator("#todo-filters")).to_be_hidden()

    # added in the first tab (the form posts and reloads there): appears in the second
    TodoFormPage(first).add(title="Buy milk", priority=2)
    expect(watcher.titles).to_have_text(["Buy milk"], timeout=LIVE)
    expect(watcher.summary).to_contain_text("Showing 1–1 of 1 todo")
    expect(watcher.empty_new).to_be_hidden()
    expect(second.locator("#todo-filters")).to_be_visible()
    expect(watcher.live_status).to_have_text("Added “Buy milk”.")
    TodoFormPage(first).add(title="Call the plumber", priority=3)
    expect(watcher.titles).to_have_text(["Call the plumber", "Buy milk"], timeout=LIVE)
    expect(watcher.summary).to_contain_text("Showing 1–2 of 2 todos")

    # toggled in the first tab: changes in the second, and the new row works there
    acting = TodoListPage(first)
    acting.wait_live()
    acting.mark_document()
    acting.toggle_with_checkbox("Buy milk")
    expect(watcher.checkbox("Buy milk")).to_be_checked(timeout=LIVE)
    expect(watcher.item("Buy milk")).to_have_class(re.compile(r"\bis-complete\b"))
    expect(watcher.live_status).to_have_text("Marked “Buy milk” as done.")
    watcher.toggle_with_checkbox("Buy milk")
    expect(acting.checkbox("Buy milk")).not_to_be_checked(timeout=LIVE)
    expect(acting.live_status).to_have_text("Reopened “Buy milk”.")

    # deleted in the first tab: disappears from the second; the last one empties the list
    acting.open_delete_dialog("Buy milk").get_by_role("button", name="Delete").click()
    expect(watcher.item("Buy milk")).to_have_count(0, timeout=LIVE)
    expect(watcher.summary).to_contain_text("Showing 1–1 of 1 todo")
    expect(watcher.live_status).to_have_text("Deleted “Buy milk”.")
    acting.open_delete_dialog("Call the plumber").get_by_role("button", name="Delete").click()
    expect(watcher.items).to_have_count(0, timeout=LIVE)
    expect(watcher.empty_new).to_be_visible()
    expect(second.locator("#todo-filters")).to_be_hidden()
    assert watcher.same_document() and acting.same_document()
    expect(watcher.list_changed).to_be_empty()


def test_changes_through_the_json_api_show(open_page: SessionFactory, fresh_user: User, server: Server) -> None:
    token = api_token(server, fresh_user)
    kept = api_add_todo(server, token, title="Water the plants", priority=2)
    page = open_page(fresh_user)
    todos = _open_list(page)

    created = api_add_todo(server, token, title="Renew passport", priority=4)
    expect(todos.titles).to_have_text(["Renew passport", "Water the plants"], timeout=LIVE)
    with _api(server, token) as client:
        assert client.patch(f"/todos/todo/{created['id']}", json={"title": "Renew the passport"}).status_code == 200
        expect(todos.titles).to_have_text(["Renew the passport", "Water the plants"], timeout=LIVE)
        expect(todos.live_status).to_have_text("Changed “Renew the passport”.")
        assert client.delete(f"/todos/todo/{kept['id']}").status_code == 204
        expect(todos.titles).to_have_text(["Renew the passport"], timeout=LIVE)
        assert client.post(f"/todos/todo/{kept['id']}/restore").status_code == 200
        expect(todos.titles).to_have_text(["Renew the passport", "Water the plants"], timeout=LIVE)
        expect(todos.live_status).to_have_text("Restored “Water the plants”.")
    assert todos.same_document()


def test_a_filtered_view_drops_a_todo_completed_elsewhere(
    open_page: SessionFactory, fresh_user: User, server: Server
) -> None:
    token = api_token(server, fresh_user)
    first = api_add_todo(server, token, title="Book dentist", priority=3)
    api_add_todo(server, token, title="Plan the offsite", priority=5)
    page = open_page(fresh_user)
    todos = _open_list(page, "/todo-page?complete=false")
    expect(todos.summary).to_contain_text("Showing 1–2 of 2 todos")

    with _api(server, token) as client:
        assert client.patch(f"/todos/todo/{first['id']}", json={"complete": True}).status_code == 200
        expect(todos.titles).to_have_text(["Plan the offsite"], timeout=LIVE)
        expect(todos.summary).to_contain_text("Showing 1–1 of 1 todo")
        expect(todos.live_status).to_have_text("Marked “Book dentist” as done.")
        # a done todo added elsewhere does not belong here; an open one does
        api_add_todo(server, token, title="Already done", complete=True)
        api_add_todo(server, token, title="Buy stamps", priority=1)
        expect(todos.titles).to_have_text(["Buy stamps", "Plan the offsite"], timeout=LIVE)
        # a search the new title does not match leaves the list as it was
        todos.filter(search="offsite")
        todos.wait_live()
        api_add_todo(server, token, title="Call the bank")
        assert client.patch(
            f"/todos/todo/{first['id']}", json={"complete": False, "title": "Offsite dentist"}
        ).is_success
        expect(todos.titles).to_have_text(["Plan the offsite", "Offsite dentist"], timeout=LIVE)
    expect(todos.item("Call the bank")).to_have_count(0)


def test_when_the_page_cannot_be_reread_it_says_refresh(
    open_page: SessionFactory, fresh_user: User, server: Server
) -> None:
    token = api_token(server, fresh_user)
    page = open_page(fresh_user)
    todos = _open_list(page)
    page.route(re.compile(r"/todo-page(\?|$)"), lambda route: route.abort())
    api_add_todo(server, token, title="Buy bread")
    expect(todos.list_changed).to_have_text("List changed. Refresh", timeout=LIVE)
    expect(todos.items).to_have_count(0)
    page.unroute(re.compile(r"/todo-page(\?|$)"))
    with page.expect_navigation():
        todos.list_changed.get_by_role("link", name="Refresh").click()
    expect(todos.titles).to_have_text(["Buy bread"])
    expect(todos.list_changed).to_be_empty()


def test_a_session_ended_elsewhere_stops_the_socket_and_says_so(
    open_page: SessionFactory, fresh_user: User, console: ConsoleWatch
) -> None:
    page = open_page(fresh_user)
    todos = _open_list(page)
    other = TodoListPage(_second_tab(page, console))
    other.open()
    other.logout()
    todos.wait_live("ended", timeout=6000)  # the server re-checks sessions every 2 s
    expect(todos.connection_status).to_have_text("Your session ended. Sign in again.")
    link = todos.connection_status.get_by_role("link", name="Sign in again.")
    expect(link).to_have_attribute("href", "/login-page?next=%2Ftodo-page")
    assert page.evaluate(CONTRAST_PROBLEMS, "body") == []


# --- a server of our own, to stop and start -----------------------------------------------


@pytest.fixture
def own_server(server: Server, tmp_path: Path) -> Iterator[LiveServer]:
    """A second uvicorn on the same database, pinging every 0.3 s; tests may stop and restart it."""
    env = {**server.env, "WS_PING_SECONDS": "0.3"}
    live = LiveServer.uvicorn(
        env=env, log_path=tmp_path / "uvicorn.log", port=free_port(), startup_timeout=STARTUP_TIMEOUT
    )
    with live:
        yield live


def _pong(payload: Any) -> bool:
    return '"pong"' in str(payload)


def test_the_page_answers_pings_and_survives_a_server_restart(
    open_page: SessionFactory, fresh_user: User, server: Server, own_server: LiveServer, console: ConsoleWatch
) -> None:
    token = api_token(server, fresh_user)
    page = open_page(fresh_user)
    with page.expect_websocket() as opened:
        todos = _open_list(page, f"{own_server.url}/todo-page")
    socket: WebSocket = opened.value
    # Two unanswered pings close the socket (4408): three answered ones prove the pongs count.
    for _ in range(3):
        socket.wait_for_event("framesent", predicate=_pong)
    assert not socket.is_closed()
    todos.wait_live("open")
    expect(todos.connection_status).to_be_empty()
    heading = todos.heading.bounding_box()

    own_server.stop()
    todos.wait_live("offline")
    expect(todos.connection_status).to_have_text("Offline — reconnecting…")
    assert todos.heading.bounding_box() == heading, "the status must not move the page"
    assert page.evaluate(CONTRAST_PROBLEMS, "body") == []
    assert page.evaluate(UNLABELLED) == []
    api_add_todo(server, token, title="Added while offline")  # no socket hears this one

    own_server.start()
    todos.wait_live("open", timeout=RECONNECT)
    expect(todos.titles).to_have_text(["Added while offline"], timeout=LIVE)  # refetched on reconnect
    expect(todos.connection_status).to_have_text("Back online.")
    expect(todos.connection_status).to_be_empty(timeout=6000)
    assert todos.same_document()
    # Chromium logs each failed reconnect attempt; those are expected here.
    console.problems = [p for p in console.problems if "WebSocket connection to" not in p]
