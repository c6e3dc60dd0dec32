"""The admin page: users (searched, with their role and standing), every todo, and the
confirmation page its actions lead to without JavaScript."""

from __future__ import annotations

from playwright.sync_api import Locator

from .base import BasePage


class AdminPage(BasePage):
    path = "/admin-page"

    def user_row(self, username: str) -> Locator:
        return self.page.locator(f'#users-table tbody tr[data-username="{username}"]')

    def todo_rows(self, owner: str) -> Locator:
        return self.page.locator(f'#admin-todos-table tbody tr[data-owner="{owner}"]')

    def todo_row(self, todo_id: int) -> Locator:
        return self.page.locator(f'#admin-todos-table tbody tr[data-todo-id="{todo_id}"]')

    @property
    def dialog(self) -> Locator:
        return self.page.locator("dialog#confirm-dialog")

    @property
    def notice(self) -> Locator:
        return self.page.locator("#admin-notice")

    @property
    def problem(self) -> Locator:
        return self.page.locator("#admin-problem")

    @property
    def no_users(self) -> Locator:
        return self.page.locator("#no-users")

    @property
    def search_box(self) -> Locator:
        return self.page.get_by_role("search", name="Search users").get_by_label("Search users")

    def search(self, text: str) -> None:
        """Search the users (a plain GET form: it works with and without JavaScript)."""
        self.search_box.fill(text)
        with self.page.expect_navigation():
            self.page.get_by_role("search", name="Search users").get_by_role("button", name="Search").click()

    def action(self, username: str, name: str) -> Locator:
        """A user's action by its accessible name, e.g. "Deactivate alice" (a link when asked first)."""
        row = self.user_row(username)
        return row.get_by_role("link", name=name, exact=True).or_(row.get_by_role("button", name=name, exact=True))

    def state(self, username: str, column: str) -> Locator:
        """A user's "Role" or "Account" cell."""
        return self.user_row(username).locator(f'td[data-label="{column}"]')

    def find_user(self, username: str) -> Locator:
        """Follow the users' "Next" links until the user's row shows (users are sorted by name)."""
        row = self.user_row(username)
        while row.count() == 0:
            following = self.page.get_by_role("navigation", name="User pages").get_by_role("link", name="Next")
            assert following.count() == 1, f"{username} is on no page of the user list"
            with self.page.expect_navigation():
                following.click()
        return row
