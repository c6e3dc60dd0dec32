"""The core flows people use, end to end: with JavaScript, and again without it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import SESSION_COOKIE, Server, SessionFactory, User, api_add_todo, api_token, days_from_today, new_user
from .pages import LoginPage, RegisterPage, TodoFormPage, TodoListPage

AT_LIST = re.compile(r"/todo-page(\?(notice|added)=\w+)?$")  # with what just happened
AT_LOGIN = re.compile(r"/login-page$")


def _session_cookie(page: Page) -> str:
    values = [c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert len(values) == 1, page.context.cookies()
    return values[0]


def _register_and_log_in_again(page: Page) -> TodoListPage:
    user = new_user("flow")
    RegisterPage(page).open()
    RegisterPage(page).register(user.username, user.email, user.first_name, user.last_name, user.password)
    expect(page).to_have_url(AT_LIST)
    todos = TodoListPage(page)
    expect(todos.empty_new).to_be_visible()
    expect(todos.empty_new).to_contain_text("No todos yet")
    expect(page.locator(".signed-in-as")).to_contain_text(user.username)
    todos.logout()
    expect(page).to_have_url(AT_LOGIN)
    response = LoginPage(page).login(user.username, user.password)
    assert response is not None and response.status == 303
    expect(page).to_have_url(AT_LIST)
    return todos


def _add_three(page: Page) -> None:
    form = TodoFormPage(page)
    form.add(title="Buy milk", description="Two litres", priority=2, due_date=days_from_today(-2))
    form.add(title="Write the quarterly report", priority=5, due_date=days_from_today(7))
    form.add(title="Call the plumber", priority=3)


def test_core_flow_with_javascript(open_page: SessionFactory, server: Server) -> None:
    page = open_page()
    todos = _register_and_log_in_again(page)

    # add three
    _add_three(page)
    expect(todos.titles).to_have_text(["Call the plumber", "Write the quarterly report", "Buy milk"])
    expect(todos.summary).to_contain_text("Showing 1–3 of 3 todos")
    milk = todos.item("Buy milk")
    expect(milk.locator(".priority")).to_have_text("Priority 2 · Low")
    expect(milk.locator(".due")).to_contain_text("Due")
    expect(milk).to_have_class(re.compile(r"\bis-overdue\b"))
    expect(milk.locator(".badge-overdue")).to_be_visible()
    report = todos.item("Write the quarterly report")
    expect(report.locator(".priority")).to_have_text("Priority 5 · Highest")
    expect(report.locator(".badge-overdue")).to_be_hidden()
    expect(todos.item("Call the plumber").locator(".due")).to_have_count(0)

    # edit one
    todos.edit("Call the plumber")
    form = TodoFormPage(page)
    expect(page.get_by_label("Title")).to_have_value("Call the plumber")
    form.fill(title="Call the plumber about the leak", priority=4, description="Kitchen sink")
    form.submit()
    expect(page).to_have_url(AT_LIST)
    edited = todos.item("Call the plumber about the leak")
    expect(edited.locator(".priority")).to_have_text("Priority 4 · High")
    expect(edited.locator(".todo-description")).to_have_text("Kitchen sink")
    expect(todos.item("Call the plumber")).to_have_count(0)

    # toggle complete in place: the checkbox, no reload
    expect(todos.toggle_button("Buy milk")).to_be_hidden()
    todos.mark_document()
    todos.toggle_with_checkbox("Buy milk")
    expect(milk).to_have_class(re.compile(r"\bis-complete\b"))
    expect(milk.locator(".badge-done")).to_be_visible()
    expect(milk.locator(".badge-overdue")).to_be_hidden()
    expect(todos.live_status).to_have_text("Marked “Buy milk” as done.")
    assert todos.same_document()
    page.reload()
    expect(todos.checkbox("Buy milk")).to_be_checked()
    expect(todos.checkbox("Write the quarterly report")).not_to_be_checked()

    # filter and search (plain GET form), sort
    todos.filter(status="Done")
    expect(todos.titles).to_have_text(["Buy milk"])
    expect(page).to_have_url(re.compile(r"complete=true"))
    todos.filter(status="Open")
    expect(todos.titles).to_have_text(["Call the plumber about the leak", "Write the quarterly report"])
    todos.filter(status="All", priority="5 · Highest")
    expect(todos.titles).to_have_text(["Write the quarterly report"])
    todos.filter(priority="Any", search="PLUMBER")
    expect(todos.titles).to_have_text(["Call the plumber about the leak"])
    expect(page.get_by_label("Search")).to_have_value("PLUMBER")
    todos.filter(search="no such thing")
    expect(todos.items).to_have_count(0)
    expect(todos.empty_filtered).to_be_visible()
    todos.filter(search="", sort="Title A–Z")
    expect(todos.titles).to_have_text(["Buy milk", "Call the plumber about the leak", "Write the quarterly report"])
    todos.filter(sort="Highest priority first")
    expect(todos.titles).to_have_text(["Write the quarterly report", "Call the plumber about the leak", "Buy milk"])

    # delete with confirmation: Cancel keeps it, Delete removes it without a reload
    todos.open()
    todos.mark_document()
    dialog = todos.open_delete_dialog("Write the quarterly report")
    expect(dialog).to_contain_text("“Write the quarterly report” will go to the trash")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(todos.item("Write the quarterly report")).to_have_count(1)
    expect(todos.delete_link("Write the quarterly report")).to_be_focused()
    dialog = todos.open_delete_dialog("Write the quarterly report")
    dialog.get_by_role("button", name="Delete").click()
    expect(todos.item("Write the quarterly report")).to_have_count(0)
    expect(todos.summary).to_contain_text("Showing 1–2 of 2 todos")
    assert todos.same_document()
    # Undo brings it back (the trash keeps it); then it goes again
    undo = page.locator("#undo-notice")
    expect(undo).to_contain_text("Deleted “Write the quarterly report”.")
    with page.expect_navigation():
        undo.get_by_role("button", name="Undo").click()
    expect(todos.item("Write the quarterly report")).to_have_count(1)
    expect(undo).to_be_hidden()
    todos.open_delete_dialog("Write the quarterly report").get_by_role("button", name="Delete").click()
    expect(todos.item("Write the quarterly report")).to_have_count(0)
    page.reload()
    expect(todos.titles).to_have_text(["Call the plumber about the leak", "Buy milk"])

    # log out: the server forgets the session, so the old cookie is worthless
    cookie = {"Cookie": f"{SESSION_COOKIE}={_session_cookie(page)}"}
    assert page.evaluate("document.cookie").find(SESSION_COOKIE) == -1, "the session cookie must be HttpOnly"
    with server.client() as client:
        assert client.get("/todos/", headers=cookie).status_code == 200
    todos.logout()
    expect(page).to_have_url(AT_LOGIN)
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    with server.client() as client:
        assert client.get("/todos/", headers=cookie).status_code == 401
        answer = client.get("/todo-page", headers=cookie)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login-page")
    page.goto("/todo-page")
    expect(page).to_have_url(re.compile(r"/login-page\?next=%2Ftodo-page$"))


def test_core_flow_without_javascript(open_page: SessionFactory, server: Server) -> None:
    page = open_page(js=False)
    todos = _register_and_log_in_again(page)
    _add_three(page)
    expect(todos.items).to_have_count(3)

    todos.edit("Buy milk")
    form = TodoFormPage(page)
    form.fill(title="Buy oat milk", due_date="")
    form.submit()
    expect(todos.item("Buy oat milk").locator(".due")).to_have_count(0)

    # toggle: a plain form post per todo, the checkbox stays hidden without a script
    expect(todos.checkbox("Buy oat milk")).to_be_hidden()
    expect(todos.toggle_button("Buy oat milk")).to_have_text("Mark done “Buy oat milk”")
    todos.toggle_with_button("Buy oat milk")
    expect(page).to_have_url(AT_LIST)
    expect(todos.item("Buy oat milk")).to_have_class(re.compile(r"\bis-complete\b"))
    expect(todos.toggle_button("Buy oat milk")).to_have_text("Reopen “Buy oat milk”")

    # toggling from a filtered view comes back to that view
    todos.filter(status="Done")
    todos.toggle_with_button("Buy oat milk")
    expect(page).to_have_url(re.compile(r"/todo-page\?complete=true&notice=reopened$"))
    expect(todos.page_notice).to_have_text("Reopened.")
    expect(todos.items).to_have_count(0)
    todos.filter(status="All", search="report")
    expect(todos.titles).to_have_text(["Write the quarterly report"])

    # delete: the link leads to a confirmation page; Cancel goes back, Delete deletes
    todos.open()
    todos.delete_link("Call the plumber").click()
    expect(page).to_have_url(re.compile(r"/delete-todo-page/\d+(\?return_to=\S+)?$"))
    expect(page.locator(".confirm-title")).to_have_text("Call the plumber")
    page.get_by_role("link", name="Cancel").click()
    expect(todos.item("Call the plumber")).to_have_count(1)
    todos.delete_link("Call the plumber").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/todo-page\?deleted=\d+$"))
    expect(todos.titles).to_have_text(["Write the quarterly report", "Buy oat milk"])
    expect(page.locator("#undo-notice")).to_contain_text("Deleted “Call the plumber")
    with page.expect_navigation():
        page.get_by_role("button", name="Undo").click()
    expect(page).to_have_url(AT_LIST)
    expect(todos.item("Call the plumber")).to_have_count(1)
    todos.delete_link("Call the plumber").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Delete").click()
    expect(todos.titles).to_have_text(["Write the quarterly report", "Buy oat milk"])

    # log out, and back in
    cookie = {"Cookie": f"{SESSION_COOKIE}={_session_cookie(page)}"}
    todos.logout()
    with server.client() as client:
        assert client.get("/todos/", headers=cookie).status_code == 401
    page.goto("/add-todo-page")
    expect(page).to_have_url(re.compile(r"/login-page\?next=%2Fadd-todo-page$"))


def test_pagination_links_keep_the_filters(open_page: SessionFactory, fresh_user: User, server: Server) -> None:
    token = api_token(server, fresh_user)
    for number in range(1, 6):
        api_add_todo(server, token, title=f"Errand {number}", priority=2 if number % 2 else 4)
    page = open_page(fresh_user, js=False)
    todos = TodoListPage(page)
    page.goto("/todo-page?limit=2&sort=title")
    expect(todos.titles).to_have_text(["Errand 1", "Errand 2"])
    expect(todos.summary).to_contain_text("Showing 1–2 of 5 todos")
    pages = page.get_by_role("navigation", name="Todo pages")
    expect(pages.get_by_role("link", name="Previous")).to_have_count(0)
    pages.get_by_role("link", name="Next").click()
    expect(todos.titles).to_have_text(["Errand 3", "Errand 4"])
    expect(todos.summary).to_contain_text("Showing 3–4 of 5 todos")
    pages.get_by_role("link", name="Next").click()
    expect(todos.titles).to_have_text(["Errand 5"])
    expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    pages.get_by_role("link", name="Previous").click()
    expect(todos.titles).to_have_text(["Errand 3", "Errand 4"])
    # the filter form keeps the page size; filtering starts again from the first page
    todos.filter(priority="2 · Low")
    expect(todos.titles).to_have_text(["Errand 1", "Errand 3"])
    expect(todos.summary).to_contain_text("Showing 1–2 of 3 todos")
    pages.get_by_role("link", name="Next").click()
    expect(todos.titles).to_have_text(["Errand 5"])
    expect(page).to_have_url(re.compile(r"priority=2"))
