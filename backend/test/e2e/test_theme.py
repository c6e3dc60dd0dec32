"""The colour theme: the header switch (with and without JavaScript), remembered for the
user, and the browser's own setting for "Auto" and for signed-out pages."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from .conftest import ConsoleWatch, SessionFactory, User, form_login
from .pages import AccountPage, LoginPage

LIGHT = "rgb(244, 246, 248)"  # --bg
DARK = "rgb(15, 20, 26)"


def test_the_switch_repaints_without_a_reload_and_is_remembered_for_the_user(
    open_page: SessionFactory, new_context: Callable[..., BrowserContext], console: ConsoleWatch, fresh_user: User
) -> None:
    account = AccountPage(open_page(fresh_user))
    account.open()
    assert (account.theme, account.background()) == ("system", LIGHT)
    account.mark_document()

    account.theme_option("Dark").click()

    expect(account.theme_option("Dark")).to_have_attribute("aria-pressed", "true")
    expect(account.page.locator("html")).to_have_attribute("data-theme", "dark")
    assert account.background() == DARK
    assert account.same_document()
    expect(account.theme_option("Auto")).to_have_attribute("aria-pressed", "false")

    # Another browser (light by default) of the same user: dark from the first byte.
    other = new_context(color_scheme="light")
    form_login(other, fresh_user)
    again = AccountPage(console.attach(other.new_page()))
    response = again.open()
    assert response is not None and '<html lang="en" data-theme="dark"' in response.text()
    assert again.background() == DARK
    expect(again.theme_option("Dark")).to_have_attribute("aria-pressed", "true")


def test_auto_follows_the_browser(
    new_context: Callable[..., BrowserContext], console: ConsoleWatch, fresh_user: User
) -> None:
    for scheme, colour in (("dark", DARK), ("light", LIGHT)):
        context = new_context(color_scheme=scheme)
        form_login(context, fresh_user)
        page = AccountPage(console.attach(context.new_page()))
        page.open()
        assert (page.theme, page.background()) == ("system", colour)
        expect(page.theme_option("Auto")).to_have_attribute("aria-pressed", "true")


def test_the_switch_works_without_javascript(open_page: SessionFactory, fresh_user: User) -> None:
    account = AccountPage(open_page(fresh_user, js=False))
    account.open("/account-page?changed=calendar")

    account.theme_option("Dark").click()

    account.page.wait_for_url("**/account-page?changed=calendar")
    assert (account.theme, account.background()) == ("dark", DARK)
    expect(account.theme_option("Dark")).to_have_attribute("aria-pressed", "true")

    account.theme_option("Light").click()

    account.page.wait_for_url("**/account-page?changed=calendar")
    assert (account.theme, account.background()) == ("light", LIGHT)


def test_signed_out_pages_follow_the_browser(new_context: Callable[..., BrowserContext], console: ConsoleWatch) -> None:
    for scheme, colour in (("dark", DARK), ("light", LIGHT)):
        login = LoginPage(console.attach(new_context(color_scheme=scheme).new_page()))
        login.open()
        assert (login.theme, login.background()) == ("system", colour)
        expect(login.page.get_by_role("group", name="Colour theme")).to_have_count(0)
