"""What every page has: the header, its navigation and the logout button."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, Response


class BasePage:
    path = "/"

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, path: str | None = None) -> Response | None:
        return self.page.goto(path or self.path)

    @property
    def heading(self) -> Locator:
        return self.page.locator("main h1")

    @property
    def nav(self) -> Locator:
        return self.page.get_by_role("navigation", name="Main")

    def nav_link(self, name: str) -> Locator:
        return self.nav.get_by_role("link", name=name, exact=True)

    @property
    def logout_button(self) -> Locator:
        return self.page.get_by_role("button", name="Log out")

    def logout(self) -> None:
        self.logout_button.click()
        self.page.wait_for_url("**/login-page")

    @property
    def error_status(self) -> Locator:
        return self.page.locator(".error-status")

    def scroll_width(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth"))

    def mark_document(self) -> None:
        """Tag the current document; `same_document()` tells whether a reload happened since."""
        self.page.evaluate("window.__e2eMark = 'still here'")

    def same_document(self) -> bool:
        return bool(self.page.evaluate("window.__e2eMark === 'still here'"))

    # --- the colour theme ---------------------------------------------------------------

    def theme_option(self, name: str) -> Locator:
        """One of the header's theme buttons: "Auto", "Light" or "Dark"."""
        return self.page.get_by_role("group", name="Colour theme").get_by_role("button", name=name, exact=True)

    @property
    def theme(self) -> str | None:
        """The theme the page is drawn with (<html data-theme>)."""
        return self.page.locator("html").get_attribute("data-theme")

    def background(self) -> str:
        return str(self.page.evaluate("getComputedStyle(document.body).backgroundColor"))
