"""The browser session: the session cookie and its CSRF token, the login, sign-up and logout pages."""

from urllib.parse import quote_from_bytes

import pytest
from fastapi.testclient import TestClient

from backend.core.config import Settings
from backend.core.security import csrf_token
from backend.main import create_app
from backend.test.conftest import ClientFactory, SettingsFactory
from backend.test.factories import Account, Pages, jwt_claims, login, todo_payload, use_session, user_payload
from backend.test.routers.conftest import whoami


class TestCookieSession:
    """The browser session is the JWT in a cookie named `session`; writes through it need CSRF."""

    def cookie_client(self, client: TestClient, account: Account) -> TestClient:
        client.cookies.set("session", account.token)
        return client

    def test_login_page_sets_an_httponly_session_cookie(self, client: TestClient, user: Account) -> None:
        response = client.post(
            "/login-page", data={"username": user.username, "password": user.password}, follow_redirects=False
        )

        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("session=")
        assert "httponly" in cookie.lower()
        assert "samesite=lax" in cookie.lower()
        assert client.cookies.get("session")

    def test_cookie_authenticates_reads(self, client: TestClient, user: Account) -> None:
        response = self.cookie_client(client, user).get("/user/")

        assert response.status_code == 200
        assert response.json()["id"] == user.id

    def test_cookie_write_without_csrf_token_is_403(self, client: TestClient, user: Account) -> None:
        response = self.cookie_client(client, user).post("/todos/todos", json=todo_payload())

        assert response.status_code == 403
        assert client.get("/todos/").headers["X-Total-Count"] == "0"

    def test_cookie_write_with_a_wrong_csrf_token_is_403(self, client: TestClient, user: Account) -> None:
        response = self.cookie_client(client, user).post(
            "/todos/todos", json=todo_payload(), headers={"X-CSRF-Token": "0" * 64}
        )

        assert response.status_code == 403

    @pytest.mark.parametrize("presented", ["ünïcode-token", "✓" * 64, "\udcff"])
    def test_a_non_ascii_csrf_token_is_403_not_500(self, client: TestClient, user: Account, presented: str) -> None:
        client.cookies.set("session", user.token)
        raw = presented.encode("utf-8", "surrogateescape")

        header = client.post("/todos/todos", json=todo_payload(), headers={b"X-CSRF-Token": raw})
        form = client.post(
            "/add-todo-page",
            content=b"title=t&csrf_token=" + quote_from_bytes(raw).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

        assert (header.status_code, form.status_code) == (403, 403)

    def test_csrf_token_of_another_session_is_403(self, client: TestClient, user: Account, settings: Settings) -> None:
        other_session = jwt_claims(login(client, user.username))["jti"]
        response = self.cookie_client(client, user).post(
            "/todos/todos",
            json=todo_payload(),
            headers={"X-CSRF-Token": csrf_token(settings.secret_key, other_session)},
        )

        assert response.status_code == 403

    def test_cookie_write_with_the_right_csrf_token_is_201(
        self, client: TestClient, user: Account, settings: Settings
    ) -> None:
        token = csrf_token(settings.secret_key, jwt_claims(user.token)["jti"])

        response = self.cookie_client(client, user).post(
            "/todos/todos", json=todo_payload(), headers={"X-CSRF-Token": token}
        )

        assert response.status_code == 201

    def test_bearer_writes_need_no_csrf_token(self, client: TestClient, user: Account) -> None:
        response = client.post("/todos/todos", json=todo_payload(), headers=user.headers)

        assert response.status_code == 201

    def test_cookie_logout_with_csrf_revokes_and_clears_the_cookie(
        self, client: TestClient, user: Account, settings: Settings
    ) -> None:
        token = csrf_token(settings.secret_key, jwt_claims(user.token)["jti"])
        cookie_client = self.cookie_client(client, user)

        response = cookie_client.post("/auth/logout", headers={"X-CSRF-Token": token})

        assert response.status_code == 204
        assert 'session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
        assert whoami(client, user.token) == 401

    def test_cookie_logout_without_csrf_is_403(self, client: TestClient, user: Account) -> None:
        response = self.cookie_client(client, user).post("/auth/logout")

        assert response.status_code == 403
        assert whoami(client, user.token) == 200


class TestAuthPages:
    """The login / sign-up / logout pages: template and context, redirects and cookies."""

    def test_home_sends_anonymous_visitors_to_the_login_page(self, client: TestClient) -> None:
        response = client.get("/", follow_redirects=False)

        assert (response.status_code, response.headers["location"]) == (303, "/login-page")

    def test_home_sends_a_session_to_the_todo_page(self, client: TestClient, user: Account, settings: Settings) -> None:
        use_session(client, settings, user)

        response = client.get("/", follow_redirects=False)

        assert (response.status_code, response.headers["location"]) == (303, "/todo-page")

    def test_login_page(self, pages: Pages, client: TestClient) -> None:
        name, context = pages.of(client.get("/login-page", params={"next": "/todo-page?sort=title"}))

        assert name == "login.html"
        assert {"next", "username", "error", "csrf_token", "principal"} <= set(context)
        assert context["next"] == "/todo-page?sort=title"
        assert context["error"] is None

    @pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
    def test_login_page_drops_an_offsite_next(self, pages: Pages, client: TestClient, target: str) -> None:
        _, context = pages.of(client.get("/login-page", params={"next": target}))

        assert context["next"] == ""

    def test_login_form_success_sets_the_cookie_and_goes_to_next(self, client: TestClient, user: Account) -> None:
        response = client.post(
            "/login-page",
            data={"username": user.username, "password": user.password, "next": "/account-page"},
            follow_redirects=False,
        )

        assert (response.status_code, response.headers["location"]) == (303, "/account-page")
        assert client.get("/user/").json()["id"] == user.id

    def test_login_form_failure_shows_the_form_again(self, pages: Pages, client: TestClient, user: Account) -> None:
        response = client.post("/login-page", data={"username": user.username, "password": "wrong-password-1"})

        name, context = pages.of(response)
        assert response.status_code == 401
        assert name == "login.html"
        assert context["username"] == user.username
        assert context["error"]
        assert "session" not in client.cookies

    def test_login_form_with_empty_fields_is_a_failure(self, pages: Pages, client: TestClient) -> None:
        response = client.post("/login-page", data={"username": "", "password": ""})

        assert response.status_code == 401
        assert pages.of(response)[0] == "login.html"

    def test_login_form_throttled_is_429_with_retry_after(
        self, client_factory: ClientFactory, settings_factory: SettingsFactory, user: Account
    ) -> None:
        app = create_app(settings_factory(RATE_LIMIT_LOGIN="1/minute"))
        pages, client = Pages(app), client_factory(app)
        client.post("/login-page", data={"username": user.username, "password": "wrong-password-1"})

        response = client.post("/login-page", data={"username": user.username, "password": user.password})

        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert pages.of(response)[0] == "login.html"

    def test_cross_site_login_post_is_refused(self, client: TestClient, user: Account) -> None:
        response = client.post(
            "/login-page",
            data={"username": user.username, "password": user.password},
            headers={"Origin": "https://evil.example"},
        )

        assert response.status_code == 403
        assert "session" not in client.cookies

    def test_register_page(self, pages: Pages, client: TestClient) -> None:
        name, context = pages.of(client.get("/register-page"))

        assert name == "register.html"
        assert {"values", "errors", "message", "password_help"} <= set(context)
        assert len(context["password_help"]) == 5

    def test_register_form_success_logs_in(self, client: TestClient) -> None:
        payload = user_payload()

        response = client.post("/register-page", data={**payload, "phone_number": ""}, follow_redirects=False)

        assert (response.status_code, response.headers["location"]) == (303, "/todo-page")
        assert client.get("/user/").json()["username"] == payload["username"]

    def test_register_form_errors_are_shown_per_field_without_the_password(
        self, pages: Pages, client: TestClient
    ) -> None:
        payload = user_payload(username="x", email="nope", password="12345")

        response = client.post("/register-page", data=payload)

        name, context = pages.of(response)
        assert response.status_code == 422
        assert name == "register.html"
        assert {"username", "email"} <= set(context["errors"])
        assert "password" not in context["values"]
        assert "12345" not in response.text

    def test_register_form_policy_errors_are_listed(self, pages: Pages, client: TestClient) -> None:
        response = client.post("/register-page", data=user_payload(password="12345678"))

        assert response.status_code == 422
        assert len(pages.of(response)[1]["errors"]["password"]) >= 2

    def test_register_form_duplicate_is_409_on_the_field(self, pages: Pages, client: TestClient, user: Account) -> None:
        response = client.post("/register-page", data=user_payload(username=user.username))

        assert response.status_code == 409
        assert "username" in pages.of(response)[1]["errors"]

    def test_cross_site_register_post_is_refused(self, client: TestClient) -> None:
        response = client.post("/register-page", data=user_payload(), headers={"Origin": "https://evil.example"})

        assert response.status_code == 403

    def test_logout_button_revokes_and_clears(self, client: TestClient, user: Account, settings: Settings) -> None:
        csrf = use_session(client, settings, user)

        response = client.post("/logout-page", data={"csrf_token": csrf}, follow_redirects=False)

        assert (response.status_code, response.headers["location"]) == (303, "/login-page")
        cleared = response.headers["set-cookie"]
        assert cleared.startswith("session=") and ("Max-Age=0" in cleared or 'session="";' in cleared)
        assert whoami(client, user.token) == 401

    def test_logout_button_without_csrf_is_403(
        self, pages: Pages, client: TestClient, user: Account, settings: Settings
    ) -> None:
        use_session(client, settings, user)

        response = client.post("/logout-page", follow_redirects=False)

        assert response.status_code == 403
        assert pages.of(response)[0] == "error.html"
        assert whoami(client, user.token) == 200

    def test_pages_send_anonymous_visitors_to_log_in_with_next(self, client: TestClient) -> None:
        response = client.get("/todo-page", params={"sort": "title"}, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/login-page?next=%2Ftodo-page%3Fsort%3Dtitle"

    def test_docs_page(self, pages: Pages, client: TestClient) -> None:
        name, context = pages.of(client.get("/docs"))

        assert name == "docs.html"
        assert context["openapi_url"] == "/openapi.json"
