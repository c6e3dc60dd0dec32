"""The login and sign-up forms."""

from __future__ import annotations

from playwright.sync_api import Locator, Response

from .base import BasePage


class LoginPage(BasePage):
    path = "/login-page"

    @property
    def username(self) -> Locator:
        return self.page.get_by_label("Username")

    @property
    def password(self) -> Locator:
        return self.page.get_by_label("Password")

    @property
    def error(self) -> Locator:
        return self.page.get_by_role("alert")

    def login(self, username: str, password: str) -> Response | None:
        """Submit the form; returns the answer to the POST."""
        self.username.fill(username)
        self.password.fill(password)
        with self.page.expect_response(lambda r: r.url.endswith("/login-page") and r.request.method == "POST") as info:
            self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()
        return info.value


class RegisterPage(BasePage):
    path = "/register-page"

    def field(self, label: str) -> Locator:
        return self.page.get_by_label(label, exact=True)

    def errors_for(self, field_id: str) -> Locator:
        return self.page.locator(f"#{field_id}-error")

    def register(self, username: str, email: str, first_name: str, last_name: str, password: str) -> None:
        self.field("Username").fill(username)
        self.field("Email").fill(email)
        self.field("First name").fill(first_name)
        self.field("Last name").fill(last_name)
        self.field("Password").fill(password)
        self.page.get_by_role("button", name="Create account").click()
        self.page.wait_for_load_state()
