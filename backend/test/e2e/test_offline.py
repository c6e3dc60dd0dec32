"""Offline: the service worker keeps the list page, so a reload without a network shows the
last-seen list read-only with a notice; logging out forgets it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError

from backend.test.live import wait_until

from .axe import report, violations
from .conftest import ConsoleWatch, Server, User, api_add_todo, api_token, form_login
from .pages import TodoListPage

NOTICE = "Offline — showing your last-seen list; changes are disabled"
# The page's copy is in the worker's page cache (it fetches it when the page first loads).
# Asynchronous, so it is polled with page.evaluate: wait_for_function takes the promise
# itself for a truthy answer and returns at once, before the worker has kept anything.
LIST_KEPT = """async () => {
  for (const name of await caches.keys()) {
    if (name.startsWith("pages ") && (await (await caches.open(name)).keys()).length > 0) return true;
  }
  return false;
}"""


def _online_list(context: BrowserContext, console: ConsoleWatch, user: User) -> TodoListPage:
    """A signed-in page on the list, once the service worker controls it and has kept it."""
    form_login(context, user)
    todos = TodoListPage(console.attach(context.new_page()))
    todos.open()
    todos.page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    wait_until(lambda: todos.page.evaluate(LIST_KEPT), timeout=10, what="the service worker to keep the list page")
    return todos


def _controls_enabled(page: Page) -> list[str]:
    enabled: list[str] = page.eval_on_selector_all(
        "button:enabled, input:enabled, select:enabled, textarea:enabled",
        "(els) => els.map((el) => el.outerHTML.slice(0, 80))",
    )
    return enabled


def test_an_offline_reload_shows_the_last_seen_list_read_only(
    new_context: Callable[..., BrowserContext], console: ConsoleWatch, fresh_user: User, server: Server
) -> None:
    api_add_todo(server, api_token(server, fresh_user), title="Seen before going offline")
    context = new_context()
    todos = _online_list(context, console, fresh_user)
    expect(todos.page.get_by_text(NOTICE)).to_have_count(0)

    context.set_offline(True)
    todos.page.reload()

    expect(todos.page.get_by_role("status").filter(has_text=NOTICE)).to_be_visible()
    expect(todos.item("Seen before going offline")).to_be_visible()
    expect(todos.heading).to_have_text("Your todos")
    assert _controls_enabled(todos.page) == []
    found = violations(todos.page)
    assert found == [], report(found)
    assert todos.page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(244, 246, 248)"


def test_logging_out_forgets_the_kept_list(
    new_context: Callable[..., BrowserContext], console: ConsoleWatch, fresh_user: User
) -> None:
    context = new_context()
    todos = _online_list(context, console, fresh_user)

    todos.logout()
    context.set_offline(True)

    with pytest.raises(PlaywrightError, match="net::ERR_"):
        todos.page.goto("/todo-page")
