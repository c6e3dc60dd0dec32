"""The account page: phone number and password changes."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import SESSION_COOKIE, Server, User
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
