"""The account page: phone number, time zone, calendar address and password changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from .conftest import DESKTOP, SESSION_COOKIE, ConsoleWatch, Server, User, api_token, form_login
from .pages import AccountPage, LoginPage


def test_phone_number_can_be_set_checked_and_cleared(fresh_page: Page, fresh_user: User) -> None:
    account = AccountPage(fresh_page)
    account.open()
    expect(account.profile_value("Username")).to_have_text(fresh_user.username)
    expect(account.profile_value("Phone")).to_have_text("—")
    account.set_phone("12ab")
    expect(account.errors_for("phone_number")).to_have_text(
        "Phone number must have 7–15 digits, with an optional + in front."
    )
    phone_field = fresh_page.get_by_role("textbox", name="Phone number")
    expect(phone_field).to_have_attribute("aria-invalid", "true")
    expect(phone_field).to_be_focused()  # focus goes to the field to fix
    expect(phone_field).to_have_value("12ab")
    expect(account.profile_value("Phone")).to_have_text("—")
    account.set_phone("+1 (555) 123-4567")  # as people write it; stored as digits
    expect(fresh_page.get_by_role("status")).to_have_text("Phone number saved.")
    expect(account.profile_value("Phone")).to_have_text("+15551234567")
    account.set_phone("")
    expect(account.profile_value("Phone")).to_have_text("—")


def test_password_change_ends_the_session(fresh_page: Page, fresh_user: User, server: Server) -> None:
    page = fresh_page
    account = AccountPage(page)
    account.open()
    old_cookie = next(c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    account.change_password("not-my-password", "brand-new-copper-kettle")
    expect(account.errors_for("current-password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/account-page/password$"))

    new_password = "brand-new-copper-kettle"
    account.change_password(fresh_user.password, new_password)
    expect(page).to_have_url(re.compile(r"/login-page\?changed=1$"))
    expect(page.get_by_role("status")).to_contain_text("Your password was changed")
    with server.client() as client:
        assert client.get("/todos/", headers={"Cookie": f"{SESSION_COOKIE}={old_cookie}"}).status_code == 401
    login = LoginPage(page)
    response = login.login(fresh_user.username, fresh_user.password)
    assert response is not None and response.status == 401
    response = login.login(fresh_user.username, new_password)
    assert response is not None and response.status == 303
    expect(page).to_have_url(re.compile(r"/todo-page$"))


def test_the_browsers_zone_is_suggested_and_saved(
    new_context: Callable[..., BrowserContext], console: ConsoleWatch, fresh_user: User, server: Server
) -> None:
    context = new_context(timezone_id="Asia/Tokyo", viewport=DESKTOP)
    form_login(context, fresh_user)
    page = console.attach(context.new_page())
    account = AccountPage(page)
    account.open()
    expect(account.zone_field).to_have_value("UTC")
    expect(account.zone_suggestion).to_contain_text("Your browser says Asia/Tokyo.")

    account.zone_suggestion.get_by_role("button", name="Use it").click()
    expect(account.zone_field).to_have_value("Asia/Tokyo")
    expect(account.zone_suggestion).to_be_hidden()
    account.save_zone()

    expect(page.get_by_role("status")).to_have_text("Time zone saved.")
    expect(account.profile_value("Time zone")).to_have_text("Asia/Tokyo")
    expect(account.zone_suggestion).to_be_hidden()  # the saved zone is the browser's now
    with server.client(headers={"Authorization": f"Bearer {api_token(server, fresh_user)}"}) as client:
        assert client.get("/user/").json()["timezone"] == "Asia/Tokyo"


def test_an_unknown_zone_is_explained_without_javascript(open_page: Callable[..., Page], fresh_user: User) -> None:
    page = open_page(fresh_user, js=False)
    account = AccountPage(page)
    account.open()
    expect(account.zone_suggestion).to_be_hidden()
    account.zone_field.fill("Berlin")
    account.save_zone()

    expect(account.errors_for("timezone")).to_have_text(
        "Time zone must be a name from the time zone list, such as Europe/Berlin or UTC."
    )
    expect(account.zone_field).to_be_focused()
    expect(account.profile_value("Time zone")).to_have_text("UTC")


def test_an_encoded_slash_reaches_the_real_server(server: Server, fresh_user: User) -> None:
    """uvicorn decodes `%2F` before routing; the zone converter still takes the whole name."""
    with server.client(headers={"Authorization": f"Bearer {api_token(server, fresh_user)}"}) as client:
        assert client.put("/user/timezone/America%2FArgentina%2FBuenos_Aires").status_code == 204
        assert client.get("/user/").json()["timezone"] == "America/Argentina/Buenos_Aires"
        response = client.put("/user/timezone/Mars%2FOlympus_Mons")
        assert response.status_code == 422
        assert client.get("/user/").json()["timezone"] == "America/Argentina/Buenos_Aires"


def test_the_calendar_address_is_copied_and_replaced(
    new_context: Callable[..., BrowserContext], console: ConsoleWatch, fresh_user: User, server: Server
) -> None:
    context = new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    form_login(context, fresh_user)
    page = console.attach(context.new_page())
    account = AccountPage(page)
    account.open()
    old_url = account.calendar_address.input_value()
    assert old_url.startswith(f"{server.url}/calendar/") and old_url.endswith(".ics")

    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#calendar-copy-status")).to_have_text("Address copied.")
    assert page.evaluate("navigator.clipboard.readText()") == old_url

    page.get_by_role("button", name="Get a new address").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("The old address stops working")
    dialog.get_by_role("button", name="Cancel").click()
    expect(account.calendar_address).to_have_value(old_url)

    page.get_by_role("button", name="Get a new address").click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Get a new address").click()
    expect(page.get_by_role("status")).to_have_text("Your calendar address was changed. The old one no longer works.")
    new_url = account.calendar_address.input_value()
    assert new_url != old_url
    with server.client() as client:
        assert client.get(urlsplit(old_url).path).status_code == 404
        feed = client.get(urlsplit(new_url).path)
    assert feed.status_code == 200
    assert feed.text.startswith("BEGIN:VCALENDAR")
