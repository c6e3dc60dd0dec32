"""The admin page in a browser: search, role and standing changes, and what is asked first,
in the dialog with JavaScript and on a confirmation page without it."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from .conftest import Server, SessionFactory, User, api_register, new_user
from .pages import AdminPage


def _registered(server: Server, prefix: str) -> User:
    user = new_user(prefix)
    api_register(server, user)
    return user


def _can_log_in(server: Server, user: User) -> bool:
    with server.client() as client:
        answer = client.post("/auth/token", data={"username": user.username, "password": user.password})
    return answer.status_code == 200


def test_search_pages_keep_the_query_and_no_match_is_said(
    open_page: SessionFactory, admin: User, server: Server
) -> None:
    prefix = f"srch{secrets.token_hex(3)}"
    for _ in range(21):
        _registered(server, prefix)
    admin_page = AdminPage(open_page(admin))
    admin_page.open()

    admin_page.search(prefix.upper())

    expect(admin_page.page).to_have_url(re.compile(rf"q={prefix.upper()}"))
    expect(admin_page.search_box).to_have_value(prefix.upper())
    expect(admin_page.page.locator("#users-table tbody tr")).to_have_count(20)
    with admin_page.page.expect_navigation():
        admin_page.page.get_by_role("navigation", name="User pages").get_by_role("link", name="Next").click()
    expect(admin_page.page).to_have_url(re.compile(rf"q={prefix.upper()}&user_offset=20"))
    expect(admin_page.page.locator("#users-table tbody tr")).to_have_count(1)

    admin_page.search("no-such-person-here")
    expect(admin_page.no_users).to_have_text("No users match “no-such-person-here”.")


def test_make_admin_returns_to_the_search_with_a_notice(open_page: SessionFactory, admin: User, server: Server) -> None:
    someone = _registered(server, "promo")
    admin_page = AdminPage(open_page(admin))
    admin_page.open()
    admin_page.search(someone.username)
    expect(admin_page.state(someone.username, "Role")).to_have_text("User")

    with admin_page.page.expect_navigation():
        admin_page.action(someone.username, f"Make admin: {someone.username}").click()

    expect(admin_page.notice).to_have_text(f"{someone.username} is now an admin.")
    expect(admin_page.search_box).to_have_value(someone.username)
    expect(admin_page.state(someone.username, "Role")).to_have_text("Admin")
    expect(admin_page.action(someone.username, f"Make plain user: {someone.username}")).to_be_visible()


def test_deactivate_asks_in_the_dialog(open_page: SessionFactory, admin: User, server: Server) -> None:
    victim = _registered(server, "deact")
    admin_page = AdminPage(open_page(admin))
    admin_page.open()
    admin_page.search(victim.username)
    deactivate = admin_page.action(victim.username, f"Deactivate {victim.username}")

    deactivate.click()
    expect(admin_page.dialog).to_be_visible()
    expect(admin_page.dialog.get_by_role("heading")).to_have_text(f"Deactivate {victim.username}?")
    admin_page.dialog.get_by_role("button", name="Cancel").click()
    expect(admin_page.dialog).to_be_hidden()
    expect(deactivate).to_be_focused()
    expect(admin_page.state(victim.username, "Account")).to_have_text("Active")
    assert _can_log_in(server, victim)

    deactivate.click()
    with admin_page.page.expect_navigation():
        admin_page.dialog.get_by_role("button", name="Deactivate").click()

    expect(admin_page.notice).to_have_text(f"{victim.username} was deactivated; their sessions ended.")
    expect(admin_page.state(victim.username, "Account")).to_have_text("Deactivated")
    expect(admin_page.search_box).to_have_value(victim.username)
    assert not _can_log_in(server, victim)


def test_without_javascript_a_confirmation_page_asks(open_page: SessionFactory, admin: User, server: Server) -> None:
    victim = _registered(server, "nojs")
    page = open_page(admin, js=False)
    admin_page = AdminPage(page)
    admin_page.open()
    admin_page.search(victim.username)

    with page.expect_navigation():
        admin_page.action(victim.username, f"Deactivate {victim.username}").click()
    expect(admin_page.heading).to_have_text(f"Deactivate {victim.username}?")
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel").click()
    expect(admin_page.state(victim.username, "Account")).to_have_text("Active")
    expect(admin_page.search_box).to_have_value(victim.username)

    with page.expect_navigation():
        admin_page.action(victim.username, f"Deactivate {victim.username}").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Deactivate").click()
    expect(admin_page.notice).to_have_text(f"{victim.username} was deactivated; their sessions ended.")
    assert not _can_log_in(server, victim)

    with page.expect_navigation():
        admin_page.action(victim.username, f"Reactivate {victim.username}").click()
    expect(admin_page.notice).to_have_text(f"{victim.username} was reactivated and can log in again.")
    assert _can_log_in(server, victim)
