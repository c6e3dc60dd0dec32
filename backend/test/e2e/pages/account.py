"""The account page: phone number, time zone, calendar address and password."""

from __future__ import annotations

from playwright.sync_api import Locator

from .base import BasePage


class AccountPage(BasePage):
    path = "/account-page"

    def profile_value(self, term: str) -> Locator:
        return self.page.locator(".profile div").filter(has=self.page.locator("dt", has_text=term)).locator("dd")

    def set_phone(self, phone: str) -> None:
        self.page.get_by_role("textbox", name="Phone number").fill(phone)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Save phone number").click()

    def change_password(self, current: str, new: str) -> None:
        self.page.get_by_label("Current password").fill(current)
        self.page.get_by_label("New password").fill(new)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Change password").click()

    def errors_for(self, field_id: str) -> Locator:
        return self.page.locator(f"#{field_id}-error")

    @property
    def zone_field(self) -> Locator:
        return self.page.get_by_role("combobox", name="Time zone")

    @property
    def zone_suggestion(self) -> Locator:
        return self.page.locator("#zone-suggestion")

    def save_zone(self) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Save time zone").click()

    @property
    def calendar_address(self) -> Locator:
        return self.page.get_by_role("textbox", name="Calendar address")
