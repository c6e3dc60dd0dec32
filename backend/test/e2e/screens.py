"""The app's screens, each as a person reaches it: who is signed in and the steps taken.
The layout checks (test_layout.py) and the accessibility audit (test_axe.py) visit them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import FilePayload, Page, expect

from .pages import LoginPage, RegisterPage, TodoFormPage, TodoListPage


@dataclass(frozen=True)
class Screen:
    name: str
    who: str  # "anonymous", "reader", "fresh" or "admin"
    show: Callable[[Page], None]
    js: bool = True
    status: int = 200
    root: str = "body"


def goto(path: str) -> Callable[[Page], None]:
    def show(page: Page) -> None:
        page.goto(path)

    return show


def _login_error(page: Page) -> None:
    LoginPage(page).open()
    LoginPage(page).login("nobody-here", "not-a-real-password")


def _register_errors(page: Page) -> None:
    RegisterPage(page).open()
    RegisterPage(page).register("x", "not-an-email", "", "Hopper", "123")


def _first_todo(page: Page, prefix: str) -> None:
    page.goto("/todo-page")
    todo_id = TodoListPage(page).items.first.get_attribute("data-todo-id")
    page.goto(f"{prefix}/{todo_id}")


def _add_errors(page: Page) -> None:
    form = TodoFormPage(page)
    form.open()
    form.fill(title="   ", due_date="")
    form.submit()


def _edit_submitted(page: Page, *, version: str | None = None, action: str | None = None) -> None:
    """Submit the first todo's edit form as if it were stale (`version`) or its todo gone
    (`action`): the screen shows, nothing is written."""
    _first_todo(page, "/edit-todo-page")
    form = TodoFormPage(page)
    if version is not None:
        form.form.locator("input[name=version]").evaluate("(input, value) => { input.value = value; }", version)
    if action is not None:
        form.form.evaluate("(form, action) => { form.action = action; }", action)
    form.fill(title="What I typed")
    form.submit()


def _account_errors(page: Page) -> None:
    page.goto("/account-page")
    page.get_by_role("textbox", name="Phone number").fill("call me maybe")
    with page.expect_navigation():
        page.get_by_role("button", name="Save phone number").click()


def _import_problems(page: Page) -> None:
    page.goto("/todo-page")
    bad_file: FilePayload = {"name": "todos.json", "mimeType": "application/json", "buffer": b'[{"title": ""}]'}
    page.get_by_label("Import todos from a CSV or JSON file").set_input_files(files=[bad_file])
    with page.expect_navigation():
        page.get_by_role("button", name="Import", exact=True).click()


def _admin_ask(page: Page) -> None:
    """The first "Deactivate …" of the admin page: its dialog, or its confirmation page without scripts."""
    page.goto("/admin-page")
    page.locator("#users-table").get_by_role("link", name="Deactivate").first.click()
    expect(page.locator("dialog#confirm-dialog[open], #confirm-heading")).to_be_visible()


def _delete_dialog(page: Page) -> None:
    page.goto("/todo-page")
    todos = TodoListPage(page)
    todos.items.first.get_by_role("link", name="Delete").click()
    expect(todos.dialog).to_be_visible()


def _inbox(page: Page, path: str) -> None:
    """`path` with `{id}` the user's Inbox (the first of their lists)."""
    inbox = page.request.get("/lists/").json()[0]["id"]
    page.goto(path.format(id=inbox))


def _shortcuts(page: Page) -> None:
    page.goto("/todo-page")
    page.locator("body").press("?")
    expect(page.locator("dialog[open]")).to_be_visible()


SCREENS = [
    Screen("login", "anonymous", goto("/login-page")),
    Screen("login-error", "anonymous", _login_error),
    Screen("register", "anonymous", goto("/register-page")),
    Screen("register-errors", "anonymous", _register_errors),
    Screen("forgot-password", "anonymous", goto("/forgot-password-page")),
    Screen("import-problems", "reader", _import_problems),
    Screen("reset-password", "anonymous", goto("/reset-password-page?token=from-the-mail")),
    Screen("reset-password-no-link", "anonymous", goto("/reset-password-page")),
    Screen("todos", "reader", goto("/todo-page")),
    Screen("todos-nojs", "reader", goto("/todo-page"), js=False),
    Screen("todos-filtered-empty", "reader", goto("/todo-page?q=nothing-matches-this&complete=false")),
    Screen("todos-empty", "fresh", goto("/todo-page")),
    Screen("todos-delete-dialog", "reader", _delete_dialog, root="dialog"),
    Screen("todo-add", "reader", goto("/add-todo-page")),
    Screen("todo-add-errors", "reader", _add_errors),
    Screen("todo-edit", "reader", lambda page: _first_todo(page, "/edit-todo-page")),
    Screen("todo-edit-conflict", "reader", lambda page: _edit_submitted(page, version='W/"stale"'), status=409),
    Screen("todo-edit-deleted", "reader", lambda page: _edit_submitted(page, action="/edit-todo-page/2147483647")),
    Screen("todo-delete-confirm", "reader", lambda page: _first_todo(page, "/delete-todo-page")),
    Screen("account", "reader", goto("/account-page")),
    Screen("account-errors", "reader", _account_errors),
    Screen("admin", "admin", goto("/admin-page")),
    Screen("admin-nojs", "admin", goto("/admin-page"), js=False),
    Screen("admin-search-empty", "admin", goto("/admin-page?q=nothing-matches-this")),
    Screen("admin-notice", "admin", goto("/admin-page?done=deactivated&who=someone")),
    Screen("admin-dialog", "admin", _admin_ask, root="dialog"),
    Screen("admin-confirm", "admin", _admin_ask, js=False),
    Screen("error-403", "reader", goto("/admin-page")),
    Screen("error-404", "reader", goto("/edit-todo-page/2147483647")),
    Screen("list-view", "reader", lambda page: _inbox(page, "/todo-page?list_id={id}")),
    Screen("list-settings", "reader", lambda page: _inbox(page, "/list-page/{id}")),
    Screen("list-delete-confirm", "reader", lambda page: _inbox(page, "/list-page/{id}/delete")),
    Screen("list-new", "reader", goto("/list-page")),
    Screen("todos-view-upcoming", "reader", goto("/todo-page?view=upcoming")),
    Screen("shortcuts-dialog", "reader", _shortcuts, root="dialog[open]"),
]
