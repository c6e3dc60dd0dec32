"""The todo list (filters, toggle, delete) and the add / edit form."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from .base import BasePage


class TodoListPage(BasePage):
    path = "/todo-page"

    @property
    def items(self) -> Locator:
        return self.page.locator("#todo-list > li.todo")

    @property
    def titles(self) -> Locator:
        return self.items.locator(".todo-title")

    def item(self, title: str) -> Locator:
        return self.items.filter(has=self.page.locator(".todo-title").get_by_text(title, exact=True))

    def item_id(self, title: str) -> int:
        return int(self.item(title).get_attribute("data-todo-id") or 0)

    @property
    def empty_new(self) -> Locator:
        return self.page.locator("#empty-new")

    @property
    def empty_filtered(self) -> Locator:
        return self.page.locator("#empty-filtered")

    @property
    def summary(self) -> Locator:
        return self.page.locator("#list-summary")

    @property
    def dialog(self) -> Locator:
        return self.page.locator("dialog#confirm-dialog")

    @property
    def live_status(self) -> Locator:
        return self.page.locator("#live-status")

    # live updates -------------------------------------------------------------------------

    @property
    def connection_status(self) -> Locator:
        return self.page.locator("#connection-status")

    @property
    def list_changed(self) -> Locator:
        return self.page.locator("#list-changed")

    def wait_live(self, state: str = "open", timeout: float = 5000) -> None:
        """Wait for the live socket's state (todos.js keeps it on <html data-live>)."""
        expect(self.page.locator("html")).to_have_attribute("data-live", state, timeout=timeout)

    # quick add and confirmations ---------------------------------------------------------

    @property
    def quick_text(self) -> Locator:
        return self.page.get_by_label("Quick add")

    @property
    def quick_add_button(self) -> Locator:
        return self.page.locator("#quick-add").get_by_role("button", name="Add", exact=True)

    @property
    def quick_chips(self) -> Locator:
        return self.page.locator("#quick-preview .chip")

    @property
    def quick_error(self) -> Locator:
        return self.page.locator("#quick-error")

    @property
    def page_notice(self) -> Locator:
        return self.page.locator("#page-notice")

    # sidebar -------------------------------------------------------------------------------

    @property
    def sidebar(self) -> Locator:
        return self.page.get_by_role("navigation", name="Lists and views")

    def sidebar_link(self, name: str) -> Locator:
        return self.sidebar.get_by_role("link", name=re.compile(rf"^#?{re.escape(name)}\b"))

    @property
    def drawer_button(self) -> Locator:
        return self.page.get_by_role("link", name="Lists and views", exact=True)

    # many at once, order, inline edit, shortcuts --------------------------------------------

    def bulk(self, name: str) -> Locator:
        return self.page.locator(".bulk-actions").get_by_role("button", name=name)

    def confirm(self) -> None:
        """Press the dialog's confirming button (then the page reloads)."""
        with self.page.expect_navigation():
            self.dialog.locator("button[value=confirm]").click()

    @property
    def undo_cleared(self) -> Locator:
        return self.page.locator("#cleared-notice").get_by_role("button", name=re.compile("^Undo"))

    @property
    def inline_input(self) -> Locator:
        return self.page.locator(".inline-edit input")

    @property
    def shortcuts(self) -> Locator:
        return self.page.locator("dialog#shortcuts-dialog")

    # filters ----------------------------------------------------------------------------

    def filter(
        self,
        *,
        status: str | None = None,
        priority: str | None = None,
        search: str | None = None,
        sort: str | None = None,
    ) -> None:
        """Set the given controls (by their visible labels) and apply."""
        form = self.page.get_by_role("search", name="Filter todos")
        if search is not None:
            form.get_by_label("Search").fill(search)
        if status is not None:
            form.get_by_label("Status").select_option(label=status)
        if priority is not None:
            form.get_by_label("Priority").select_option(label=priority)
        if sort is not None:
            form.get_by_label("Sort").select_option(label=sort)
        form.get_by_role("button", name="Apply").click()

    # toggle -----------------------------------------------------------------------------

    def checkbox(self, title: str) -> Locator:
        return self.item(title).get_by_role("checkbox")

    def toggle_button(self, title: str) -> Locator:
        return self.item(title).locator(".toggle-button")

    def toggle_with_checkbox(self, title: str) -> None:
        self.checkbox(title).click()

    def toggle_with_button(self, title: str) -> None:
        with self.page.expect_navigation():
            self.toggle_button(title).click()

    # edit and delete -------------------------------------------------------------------------

    def edit(self, title: str) -> None:
        self.item(title).get_by_role("link", name="Edit").click()
        self.page.wait_for_url(re.compile(r"/edit-todo-page/\d+(\?|$)"))

    def delete_link(self, title: str) -> Locator:
        return self.item(title).get_by_role("link", name="Delete")

    def open_delete_dialog(self, title: str) -> Locator:
        self.delete_link(title).click()
        expect(self.dialog).to_be_visible()
        return self.dialog


class TodoFormPage(BasePage):
    path = "/add-todo-page"

    def fill(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        priority: int | None = None,
        due_date: str | None = None,
        done: bool | None = None,
    ) -> None:
        if title is not None:
            self.page.get_by_label("Title").fill(title)
        if description is not None:
            self.page.get_by_label("Description").fill(description)
        if priority is not None:
            self.page.get_by_label("Priority").select_option(str(priority))
        if due_date is not None:
            self.page.get_by_label("Due date").fill(due_date)
        if done is not None:
            self.page.get_by_label("Done").set_checked(done)

    def submit(self) -> None:
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").click()

    def add(self, **fields: object) -> None:
        """Open the add form, fill it in and save; ends on the list."""
        self.open()
        self.fill(**fields)  # type: ignore[arg-type]
        self.submit()
        self.page.wait_for_url(re.compile(r"/todo-page(\?|$)"))

    def errors_for(self, field_id: str) -> Locator:
        return self.page.locator(f"#{field_id}-error")

    # versions: the conflict screen and the real-time hook ------------------------------------

    @property
    def form(self) -> Locator:
        return self.page.locator("main form.stack")

    @property
    def conflict(self) -> Locator:
        return self.page.get_by_role("region", name="This todo was changed elsewhere")

    def conflict_row(self, field: str) -> Locator:
        return self.conflict.get_by_role("row").filter(has=self.page.get_by_role("rowheader", name=field))

    @property
    def changed_elsewhere(self) -> Locator:
        return self.page.locator("#changed-elsewhere")

    def keep_mine(self) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Keep mine").click()

    def take_theirs(self) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name="Take theirs").click()


class ListSettingsPage(BasePage):
    """A list's settings: rename, share, members, delete."""

    def share(self, username: str, role: str = "Editor") -> None:
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Can").select_option(value=role.lower())
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Share", exact=True).click()

    @property
    def members(self) -> Locator:
        return self.page.locator(".member-list .member-name")
