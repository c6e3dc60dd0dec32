"""Safety in the browser: login failures, escaping, CSRF, roles and ownership, headers."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect

from .conftest import Server, SessionFactory, User, api_add_todo, api_register, api_token, new_user
from .pages import AdminPage, BasePage, LoginPage, RegisterPage, TodoFormPage, TodoListPage

XSS_TITLE = "<script>alert(1)</script>"
XSS_DESCRIPTION = '<img src="x" onerror="alert(2)"> & "quotes"'
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _record_dialogs(page: Page) -> list[str]:
    seen: list[str] = []

    def record(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return seen


class TestLogin:
    def test_wrong_password_shows_a_message_and_keeps_the_username(
        self, open_page: SessionFactory, fresh_user: User
    ) -> None:
        page = open_page()
        login = LoginPage(page)
        login.open()
        response = login.login(fresh_user.username, "not-the-password-at-all")
        assert response is not None and response.status == 401
        expect(page).to_have_url(re.compile(r"/login-page$"))
        expect(login.error).to_have_text("Incorrect username or password")
        expect(login.username).to_have_value(fresh_user.username)
        expect(login.username).to_have_attribute("aria-invalid", "true")
        expect(login.password).to_have_value("")
        expect(login.password).to_be_focused()
        # the right password still works afterwards
        response = login.login(fresh_user.username, fresh_user.password)
        assert response is not None and response.status == 303
        expect(page).to_have_url(re.compile(r"/todo-page$"))

    def test_unknown_user_gets_the_same_message(self, open_page: SessionFactory) -> None:
        page = open_page(js=False)
        login = LoginPage(page)
        login.open()
        login.login("nobody-by-this-name", "whatever-password-1")
        expect(login.error).to_have_text("Incorrect username or password")
        expect(login.username).to_have_value("nobody-by-this-name")

    def test_login_returns_to_the_page_asked_for_but_never_off_site(
        self, open_page: SessionFactory, fresh_user: User
    ) -> None:
        page = open_page()
        page.goto("/account-page")
        expect(page).to_have_url(re.compile(r"/login-page\?next=%2Faccount-page$"))
        LoginPage(page).login(fresh_user.username, fresh_user.password)
        expect(page).to_have_url(re.compile(r"/account-page$"))

        other = open_page()
        other.goto("/login-page?next=//evil.example/steal")
        LoginPage(other).login(fresh_user.username, fresh_user.password)
        expect(other).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/todo-page$"))

    def test_register_errors_are_shown_next_to_their_fields(self, open_page: SessionFactory, reader: User) -> None:
        page = open_page()
        register = RegisterPage(page)
        register.open()
        register.register("grace-h", "not-an-email", "Grace", "Hopper", "tidy-orchard-lamp-41")
        expect(register.errors_for("email")).to_be_visible()
        expect(register.field("Email")).to_have_attribute("aria-invalid", "true")
        expect(register.field("Email")).to_have_attribute("aria-describedby", "email-error")
        expect(register.errors_for("username")).to_have_count(0)
        # what was typed is kept, except the password
        expect(register.field("Username")).to_have_value("grace-h")
        expect(register.field("Email")).to_have_value("not-an-email")
        expect(register.field("First name")).to_have_value("Grace")
        expect(register.field("Password")).to_have_value("")
        # the password policy's messages appear beside the password
        register.register("grace-h", "grace@example.com", "Grace", "Hopper", "12345678")
        expect(register.errors_for("password")).to_contain_text("entirely numeric")
        expect(register.field("Password")).to_have_attribute("aria-describedby", "password-hint password-error")
        # a taken username: shown beside the username field
        register.register(reader.username, "grace@example.com", "Grace", "Hopper", "tidy-orchard-lamp-41")
        expect(register.errors_for("username")).to_contain_text("Username")
        expect(register.errors_for("email")).to_have_count(0)


class TestEscaping:
    def test_a_script_title_is_shown_as_text_and_never_runs(self, fresh_page: Page) -> None:
        page = fresh_page
        dialogs = _record_dialogs(page)
        TodoFormPage(page).add(title=XSS_TITLE, description=XSS_DESCRIPTION, priority=5)
        todos = TodoListPage(page)
        expect(todos.titles).to_have_text([XSS_TITLE])
        expect(todos.items.locator(".todo-description")).to_have_text(XSS_DESCRIPTION)
        todo_id = todos.item_id(XSS_TITLE)
        assert page.locator("main script, main img").count() == 0
        # the in-place toggle and the delete dialog insert the title as text too
        todos.toggle_with_checkbox(XSS_TITLE)
        expect(todos.live_status).to_have_text(f"Marked “{XSS_TITLE}” as done.")
        dialog = todos.open_delete_dialog(XSS_TITLE)
        expect(dialog.locator(".dialog-text")).to_have_text(f"“{XSS_TITLE}” will go to the trash. You can undo this.")
        dialog.get_by_role("button", name="Cancel").click()
        todos.edit(XSS_TITLE)
        expect(page.get_by_label("Title")).to_have_value(XSS_TITLE)
        expect(page.get_by_label("Description")).to_have_value(XSS_DESCRIPTION)
        page.goto(f"/delete-todo-page/{todo_id}")
        expect(page.locator(".confirm-title")).to_have_text(XSS_TITLE)
        assert page.locator("main script, main img").count() == 0
        assert dialogs == []


class TestCsrf:
    def test_a_form_post_without_the_token_is_refused(self, fresh_page: Page) -> None:
        page = fresh_page
        form = TodoFormPage(page)
        form.open()
        form.fill(title="Sneaky")
        page.locator("main form input[name=csrf_token]").evaluate("input => input.remove()")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            form.submit()
        assert answer.value.status == 403
        expect(BasePage(page).error_status).to_have_text("Error 403")
        expect(page.locator(".error-message")).to_have_text("CSRF token missing or incorrect")
        # a wrong token is refused too
        form.open()
        form.fill(title="Sneaky")
        page.locator("main form input[name=csrf_token]").evaluate("input => { input.value = 'f'.repeat(64); }")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            form.submit()
        assert answer.value.status == 403
        # with the page's own token it works, and nothing sneaked in before
        form.add(title="Honest")
        expect(TodoListPage(page).titles).to_have_text(["Honest"])

    def test_the_logout_button_needs_the_token(self, fresh_page: Page) -> None:
        page = fresh_page
        todos = TodoListPage(page)
        todos.open()
        page.locator("form.logout-form input[name=csrf_token]").evaluate("input => input.remove()")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            todos.logout_button.click()
        assert answer.value.status == 403
        todos.open()
        expect(page).to_have_url(re.compile(r"/todo-page$"))

    def test_api_calls_with_the_cookie_need_the_header(self, fresh_page: Page) -> None:
        page = fresh_page
        TodoFormPage(page).add(title="Keep me")
        todos = TodoListPage(page)
        todo_id = todos.item_id("Keep me")
        assert page.request.delete(f"/todos/todo/{todo_id}").status == 403
        assert page.request.delete(f"/todos/todo/{todo_id}", headers={"X-CSRF-Token": "nope"}).status == 403
        token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
        assert len(token) >= 32
        assert page.request.delete(f"/todos/todo/{todo_id}", headers={"X-CSRF-Token": token}).status == 204


class TestRolesAndOwnership:
    def test_a_user_cannot_open_the_admin_page(self, reader_page: Page, server: Server) -> None:
        page = reader_page
        page.goto("/todo-page")
        expect(BasePage(page).nav_link("Todos")).to_be_visible()
        expect(BasePage(page).nav_link("Admin")).to_have_count(0)
        response = page.goto("/admin-page")
        assert response is not None and response.status == 403
        expect(page.locator("main h1")).to_have_text("Not allowed")
        expect(page.locator(".error-message")).to_have_text("Admin privileges required")
        expect(page.locator("#users-table")).to_have_count(0)
        token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
        answer = page.request.post(f"/admin-page/users/{'someone'}/delete", form={"csrf_token": token})
        assert answer.status == 403

    def test_a_user_cannot_open_another_users_todo(self, open_page: SessionFactory, server: Server) -> None:
        owner = new_user("owner")
        api_register(server, owner)
        theirs = api_add_todo(server, api_token(server, owner), title="Owner's secret plan")
        intruder = new_user("intruder")
        api_register(server, intruder)
        page = open_page(intruder)
        for path in (f"/edit-todo-page/{theirs['id']}", f"/delete-todo-page/{theirs['id']}"):
            response = page.goto(path)
            assert response is not None and response.status == 404, path
            expect(page.locator("main h1")).to_have_text("Not found")
            expect(page.locator("main")).not_to_contain_text("Owner's secret plan")
        token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
        for path in (
            f"/todo-page/{theirs['id']}/toggle",
            f"/delete-todo-page/{theirs['id']}",
            f"/edit-todo-page/{theirs['id']}",
        ):
            answer = page.request.post(path, form={"csrf_token": token, "title": "Mine now"}, max_redirects=0)
            assert answer.status == 404, path
        with server.client(headers={"Authorization": f"Bearer {api_token(server, owner)}"}) as client:
            unchanged = client.get(f"/todos/{theirs['id']}").json()
        assert unchanged["title"] == "Owner's secret plan" and unchanged["complete"] is False

    def test_an_admin_sees_everything_and_can_delete(
        self, open_page: SessionFactory, admin: User, server: Server
    ) -> None:
        victim = new_user("victim")
        api_register(server, victim)
        token = api_token(server, victim)
        first = api_add_todo(server, token, title="Victim todo one")
        api_add_todo(server, token, title="Victim todo two")
        page = open_page(admin)
        admin_page = AdminPage(page)
        admin_page.open()
        expect(admin_page.nav_link("Admin")).to_have_attribute("aria-current", "page")
        expect(admin_page.todo_rows(victim.username)).to_have_count(2)
        expect(admin_page.find_user(admin.username)).to_contain_text("(you)")
        expect(admin_page.user_row(admin.username).get_by_role("button")).to_have_count(0)
        expect(admin_page.user_row(admin.username).get_by_role("link")).to_have_count(0)
        expect(admin_page.find_user(victim.username)).to_be_visible()

        admin_page.mark_document()
        admin_page.todo_row(first["id"]).get_by_role("link", name="Delete todo").click()
        expect(admin_page.dialog).to_be_visible()
        expect(admin_page.dialog).to_contain_text("Victim todo one")
        admin_page.dialog.get_by_role("button", name="Delete").click()
        expect(admin_page.todo_row(first["id"])).to_have_count(0)
        expect(admin_page.todo_rows(victim.username)).to_have_count(1)

        admin_page.action(victim.username, f"Delete user {victim.username}").click()
        admin_page.dialog.get_by_role("button", name="Cancel").click()
        expect(admin_page.user_row(victim.username)).to_be_visible()
        admin_page.action(victim.username, f"Delete user {victim.username}").click()
        admin_page.dialog.get_by_role("button", name="Delete").click()
        expect(admin_page.user_row(victim.username)).to_have_count(0)
        expect(admin_page.todo_rows(victim.username)).to_have_count(0)
        assert admin_page.same_document()
        with server.client() as client:
            gone = client.post("/auth/token", data={"username": victim.username, "password": victim.password})
        assert gone.status_code == 401

    def test_admin_deletes_work_without_javascript(
        self, open_page: SessionFactory, admin: User, server: Server
    ) -> None:
        victim = new_user("victim")
        api_register(server, victim)
        todo = api_add_todo(server, api_token(server, victim), title="Plain form delete")
        page = open_page(admin, js=False)
        admin_page = AdminPage(page)
        admin_page.open()
        with page.expect_navigation():
            admin_page.todo_row(todo["id"]).get_by_role("link", name="Delete todo").click()
        expect(admin_page.heading).to_have_text("Delete this todo?")
        expect(page.locator("main")).to_contain_text("Plain form delete")
        with page.expect_navigation():
            page.get_by_role("button", name="Delete").click()
        expect(page).to_have_url(re.compile(r"/admin-page\?done=todo_deleted$"))
        expect(admin_page.notice).to_have_text("The todo was deleted.")
        expect(admin_page.todo_row(todo["id"])).to_have_count(0)
        admin_page.search(victim.username)
        with page.expect_navigation():
            admin_page.action(victim.username, f"Delete user {victim.username}").click()
        with page.expect_navigation():
            page.get_by_role("button", name="Delete").click()
        expect(admin_page.notice).to_have_text(f"{victim.username} was deleted, with all of their todos.")
        expect(admin_page.no_users).to_have_text(f"No users match “{victim.username}”.")
        with server.client() as client:
            gone = client.post("/auth/token", data={"username": victim.username, "password": victim.password})
        assert gone.status_code == 401


class TestHeaders:
    def test_pages_carry_the_security_headers_and_scripts_run_under_them(self, reader_page: Page) -> None:
        page = reader_page
        response = page.goto("/todo-page")
        assert response is not None
        headers = response.headers
        assert headers["content-security-policy"] == CSP
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        # the module script ran under that policy (it swaps the toggle buttons for checkboxes)
        expect(TodoListPage(page).items.first.get_by_role("checkbox")).to_be_visible()
        # inline markup that the policy must block: no inline script or style in our pages
        assert page.locator("script:not([src]), [style]").count() == 0
        handlers = page.evaluate(
            "[...document.querySelectorAll('*')].flatMap((e) => [...e.attributes])"
            ".filter((a) => a.name.startsWith('on')).map((a) => a.name)"
        )
        assert handlers == []

    def test_static_files_are_versioned_and_cached_for_long(self, reader_page: Page) -> None:
        page = reader_page
        page.goto("/todo-page")
        css = page.locator('link[rel="stylesheet"]').get_attribute("href") or ""
        script = page.locator('script[type=module][src*="/js/todos.js"]').get_attribute("src") or ""
        assert re.fullmatch(r"/static/[0-9a-f]{12}/css/app\.css", css), css
        assert re.fullmatch(r"/static/[0-9a-f]{12}/js/todos\.js", script), script
        answer = page.request.get(css)
        assert answer.status == 200
        assert "max-age=31536000" in answer.headers["cache-control"]
        assert "immutable" in answer.headers["cache-control"]
