"""The admin page: every user and every todo, with delete."""

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

    def find_user(self, username: str) -> Locator:
        """Follow the users' "Next" links until the user's row shows (users are sorted by name)."""
        row = self.user_row(username)
        while row.count() == 0:
            following = self.page.get_by_role("navigation", name="User pages").get_by_role("link", name="Next")
            assert following.count() == 1, f"{username} is on no page of the user list"
            with self.page.expect_navigation():
                following.click()
        return row
