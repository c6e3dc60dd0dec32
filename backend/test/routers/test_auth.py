"""GET /login, POST /auth/token, POST /auth/logout, token refusal, cookie sessions, login throttles."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.security import csrf_token
from backend.main import create_app
from backend.test.conftest import AccountFactory, ClientFactory, SettingsFactory
from backend.test.factories import (
    Account,
    Pages,
    b64url,
    bearer,
    claims_for,
    craft_token,
    jwt_claims,
    login,
    register,
    set_active,
    todo_payload,
    use_session,
    user_payload,
)


def whoami(client: TestClient, token: str) -> int:
    return client.get("/user/", headers=bearer(token)).status_code


class TestLoginBasic:
    def test_valid_credentials_give_a_bearer_token(self, client: TestClient, user: Account) -> None:
        response = client.get("/login", auth=(user.username, user.password))

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 30 * 60
        me = client.get("/user/", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["username"] == user.username

    def test_token_is_hs256_with_the_required_claims(self, client: TestClient, user: Account) -> None:
        token = login(client, user.username)

        header = jwt_claims(f"x.{token.split('.')[0]}")
        claims = jwt_claims(token)
        assert header["alg"] == "HS256"
        assert {"sub", "exp", "iat", "jti"} <= set(claims)
        assert claims["sub"] == str(user.id)
        assert claims["exp"] - claims["iat"] == 30 * 60

    def test_wrong_password_is_401_with_www_authenticate(self, client: TestClient, user: Account) -> None:
        response = client.get("/login", auth=(user.username, "not-the-password-123"))

        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert "access_token" not in response.json()

    def test_unknown_user_gets_the_same_401_as_a_wrong_password(self, client: TestClient, user: Account) -> None:
        wrong = client.get("/login", auth=(user.username, "not-the-password-123"))
        unknown = client.get("/login", auth=("nobody-here", "not-the-password-123"))

        assert unknown.status_code == 401
        assert unknown.json() == wrong.json()
        assert unknown.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]

    def test_missing_credentials_are_401_with_www_authenticate(self, client: TestClient) -> None:
        response = client.get("/login")

        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert isinstance(response.json()["detail"], str)

    def test_malformed_basic_header_is_401(self, client: TestClient) -> None:
        response = client.get("/login", headers={"Authorization": "Basic %%%not-base64%%%"})

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    def test_basic_header_without_a_colon_is_401(self, client: TestClient) -> None:
        value = base64.b64encode(b"just-a-username").decode()
        response = client.get("/login", headers={"Authorization": f"Basic {value}"})

        assert response.status_code == 401

    def test_credentials_in_the_query_string_are_ignored(self, client: TestClient, user: Account) -> None:
        response = client.get("/login", params={"username": user.username, "password": user.password})

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    def test_a_bearer_token_is_not_a_login(self, client: TestClient, user: Account) -> None:
        response = client.get("/login", headers=user.headers)

        assert response.status_code == 401

    def test_inactive_user_cannot_log_in(self, client: TestClient, user: Account, db_session: Session) -> None:
        set_active(db_session, user.id, active=False)

        response = client.get("/login", auth=(user.username, user.password))

        assert response.status_code == 401


class TestTokenForm:
    def test_password_form_gives_the_same_body(self, client: TestClient, user: Account) -> None:
        response = client.post("/auth/token", data={"username": user.username, "password": user.password})

        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 30 * 60
        assert whoami(client, body["access_token"]) == 200

    def test_wrong_password_is_401_with_www_authenticate(self, client: TestClient, user: Account) -> None:
        response = client.post("/auth/token", data={"username": user.username, "password": "wrong-password-1"})

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    def test_missing_password_is_422(self, client: TestClient, user: Account) -> None:
        response = client.post("/auth/token", data={"username": user.username})

        assert response.status_code == 422

    def test_json_instead_of_a_form_is_422(self, client: TestClient, user: Account) -> None:
        response = client.post("/auth/token", json={"username": user.username, "password": user.password})

        assert response.status_code == 422


class TestLogout:
    def test_logout_revokes_the_presented_token(self, client: TestClient, user: Account) -> None:
        token = login(client, user.username)

        response = client.post("/auth/logout", headers=bearer(token))

        assert response.status_code == 204
        assert response.content == b""
        assert whoami(client, token) == 401

    def test_other_tokens_of_the_user_keep_working(self, client: TestClient, user: Account) -> None:
        first, second = login(client, user.username), login(client, user.username)

        client.post("/auth/logout", headers=bearer(first))

        assert whoami(client, first) == 401
        assert whoami(client, second) == 200

    def test_a_revoked_token_cannot_log_out_again(self, client: TestClient, user: Account) -> None:
        token = login(client, user.username)
        client.post("/auth/logout", headers=bearer(token))

        response = client.post("/auth/logout", headers=bearer(token))

        assert response.status_code == 401

    def test_anonymous_is_401(self, client: TestClient) -> None:
        response = client.post("/auth/logout")

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers


class TestTokenRefusal:
    """Every way a token must be refused: 401 with a Bearer challenge, never 500."""

    def assert_refused(self, client: TestClient, token: str) -> None:
        response = client.get("/user/", headers=bearer(token))
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert isinstance(response.json()["detail"], str)

    def test_a_valid_token_is_accepted(self, client: TestClient, user: Account, settings: Settings) -> None:
        token = craft_token(claims_for(user.id, account_key=user.auth_key), settings.secret_key)

        assert whoami(client, token) == 200

    def test_expired(self, client: TestClient, user: Account, settings: Settings) -> None:
        past = datetime.now(UTC) - timedelta(minutes=5)
        claims = claims_for(
            user.id,
            account_key=user.auth_key,
            iat=int((past - timedelta(minutes=30)).timestamp()),
            exp=int(past.timestamp()),
        )

        self.assert_refused(client, craft_token(claims, settings.secret_key))

    def test_tampered_payload(self, client: TestClient, user: Account, other_user: Account) -> None:
        header, _, signature = user.token.split(".")
        forged_claims = {**jwt_claims(user.token), "sub": str(other_user.id)}
        forged = f"{header}.{b64url(json.dumps(forged_claims).encode())}.{signature}"

        self.assert_refused(client, forged)

    def test_tampered_signature(self, client: TestClient, user: Account) -> None:
        header, payload, signature = user.token.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

        self.assert_refused(client, f"{header}.{payload}.{flipped}")

    def test_signed_with_another_key(self, client: TestClient, user: Account) -> None:
        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key), "another-key-" + "y" * 40)
        )

    def test_alg_none(self, client: TestClient, user: Account, settings: Settings) -> None:
        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key), settings.secret_key, alg="none")
        )

    def test_alg_none_with_the_original_signature(self, client: TestClient, user: Account) -> None:
        _, payload, signature = user.token.split(".")
        header = b64url(b'{"alg":"none","typ":"JWT"}')

        self.assert_refused(client, f"{header}.{payload}.{signature}")

    def test_hs512_with_the_right_key(self, client: TestClient, user: Account, settings: Settings) -> None:
        token = craft_token(
            claims_for(user.id, account_key=user.auth_key), settings.secret_key, alg="HS512", digest="sha512"
        )

        self.assert_refused(client, token)

    def test_rs256_header_signed_with_the_key_as_hmac_secret(
        self, client: TestClient, user: Account, settings: Settings
    ) -> None:
        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key), settings.secret_key, alg="RS256")
        )

    @pytest.mark.parametrize("claim", ["exp", "sub", "jti"])
    def test_missing_claim(self, client: TestClient, user: Account, settings: Settings, claim: str) -> None:
        without: dict[str, Any] = {claim: None}

        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key, **without), settings.secret_key)
        )

    def test_subject_that_is_not_a_user_id(self, client: TestClient, settings: Settings) -> None:
        self.assert_refused(client, craft_token(claims_for(1, sub="alice"), settings.secret_key))

    def test_garbage(self, client: TestClient) -> None:
        self.assert_refused(client, "this-is-not-a-jwt")

    def test_issued_before_a_password_change(self, client: TestClient, user: Account) -> None:
        old = login(client, user.username)
        changed = client.put(
            "/user/password",
            json={"password": user.password, "new_password": "fresh-Meadow-violin-58"},
            headers=bearer(old),
        )
        assert changed.status_code == 204

        self.assert_refused(client, old)
        self.assert_refused(client, user.token)
        assert whoami(client, login(client, user.username, "fresh-Meadow-violin-58")) == 200

    def test_deleted_user(self, client: TestClient, user: Account, admin: Account) -> None:
        assert client.delete(f"/admin/{user.username}", headers=admin.headers).status_code == 204

        self.assert_refused(client, user.token)

    def test_inactive_user(self, client: TestClient, user: Account, db_session: Session) -> None:
        set_active(db_session, user.id, active=False)

        self.assert_refused(client, user.token)

    def test_after_logout(self, client: TestClient, user: Account) -> None:
        assert client.post("/auth/logout", headers=user.headers).status_code == 204

        self.assert_refused(client, user.token)

    def test_for_a_user_that_never_existed(self, client: TestClient, settings: Settings) -> None:
        self.assert_refused(client, craft_token(claims_for(2**31 - 5), settings.secret_key))

    def test_with_the_right_id_but_another_accounts_key(
        self, client: TestClient, user: Account, other_user: Account, settings: Settings
    ) -> None:
        token = craft_token(claims_for(user.id, account_key=other_user.auth_key), settings.secret_key)

        self.assert_refused(client, token)

    def test_a_deleted_newest_accounts_token_never_works_for_the_next_sign_up(
        self, client: TestClient, admin: Account
    ) -> None:
        first = register(client)
        token = login(client, first["username"])
        assert client.post("/auth/logout", headers=bearer(token)).status_code == 204
        kept = login(client, first["username"])
        assert client.delete(f"/admin/{first['username']}", headers=admin.headers).status_code == 204

        second = register(client)

        assert second["id"] > first["id"]
        for old in (token, kept):
            self.assert_refused(client, old)

    @pytest.mark.parametrize(
        "over",
        [
            {"sub": "9" * 40},
            {"sub": str(2**31)},
            {"ver": 2**40},
            {"ver": -1},
            {"ver": "1"},
            {"iat": "now"},
            {"exp": "later"},
            {"iat": 10**30},
            {"exp": 10**30},
            {"sub": None},
        ],
        ids=[
            "huge-sub",
            "sub-over-32-bits",
            "huge-ver",
            "negative-ver",
            "text-ver",
            "text-iat",
            "text-exp",
            "iat-far-future",
            "exp-far-future",
            "no-sub",
        ],
    )
    def test_claims_of_the_wrong_type_or_size_are_401_not_500(
        self, client: TestClient, user: Account, settings: Settings, over: dict[str, Any]
    ) -> None:
        token = craft_token(claims_for(user.id, account_key=user.auth_key, **over), settings.secret_key)

        self.assert_refused(client, token)


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


class TestLoginThrottle:
    """Failed logins are limited per client IP and username, and per client IP."""

    def test_failed_logins_per_ip_and_username_give_429_with_retry_after(
        self, client_factory: ClientFactory, user: Account
    ) -> None:
        client = client_factory(RATE_LIMIT_LOGIN="3/minute")
        for _ in range(3):
            assert client.get("/login", auth=(user.username, "wrong-password-1")).status_code == 401

        response = client.get("/login", auth=(user.username, user.password))

        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert isinstance(response.json()["detail"], str)

    def test_the_username_limit_ignores_case(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(RATE_LIMIT_LOGIN="2/minute")
        client.get("/login", auth=(user.username.upper(), "wrong-password-1"))
        client.get("/login", auth=(user.username.lower(), "wrong-password-1"))

        assert client.get("/login", auth=(user.username, user.password)).status_code == 429

    def test_the_form_endpoint_shares_the_login_limit(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(RATE_LIMIT_LOGIN="2/minute")
        for _ in range(2):
            client.get("/login", auth=(user.username, "wrong-password-1"))

        response = client.post("/auth/token", data={"username": user.username, "password": user.password})

        assert response.status_code == 429
        assert "Retry-After" in response.headers

    def test_another_username_from_the_same_ip_is_not_limited(
        self, client_factory: ClientFactory, account_factory: AccountFactory
    ) -> None:
        victim, bystander = account_factory(), account_factory()
        client = client_factory(RATE_LIMIT_LOGIN="2/minute")
        for _ in range(2):
            client.get("/login", auth=(victim.username, "wrong-password-1"))

        assert client.get("/login", auth=(bystander.username, bystander.password)).status_code == 200

    def test_the_same_username_from_another_ip_is_not_limited(
        self, client_factory: ClientFactory, settings_factory: SettingsFactory, user: Account
    ) -> None:
        app = create_app(settings_factory(RATE_LIMIT_LOGIN="2/minute"))
        attacker = client_factory(app, client=("203.0.113.7", 40000))
        owner = client_factory(app, client=("198.51.100.9", 40000))
        for _ in range(2):
            attacker.get("/login", auth=(user.username, "wrong-password-1"))

        assert attacker.get("/login", auth=(user.username, user.password)).status_code == 429
        assert owner.get("/login", auth=(user.username, user.password)).status_code == 200

    def test_failed_logins_per_ip_across_usernames(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(RATE_LIMIT_LOGIN_IP="3/minute")
        for n in range(3):
            assert client.get("/login", auth=(f"someone{n}", "wrong-password-1")).status_code == 401

        response = client.get("/login", auth=(user.username, user.password))

        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0

    def test_every_attempt_counts_before_the_password_is_checked(
        self, client_factory: ClientFactory, user: Account
    ) -> None:
        client = client_factory(RATE_LIMIT_LOGIN="2/minute")
        for _ in range(2):
            assert client.get("/login", auth=(user.username, user.password)).status_code == 200

        assert client.get("/login", auth=(user.username, user.password)).status_code == 429

    def test_spellings_and_the_email_share_one_budget(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(RATE_LIMIT_LOGIN="5/minute")
        spellings = [f" {user.username}", f"{user.username} ", user.username.upper(), f"\u00a0{user.username}"]
        for name in [*spellings, user.email.upper()]:
            assert client.get("/login", auth=(name, "wrong-password-1")).status_code == 401

        assert client.get("/login", auth=(user.username, user.password)).status_code == 429

    def test_an_account_is_limited_across_addresses(
        self, client_factory: ClientFactory, settings_factory: SettingsFactory, user: Account
    ) -> None:
        app = create_app(settings_factory(RATE_LIMIT_LOGIN_ACCOUNT="3/hour"))
        rotating = [client_factory(app, client=(f"10.1.0.{n}", 5000)) for n in range(4)]
        for client in rotating[:3]:
            assert client.get("/login", auth=(user.username, "wrong-password-1")).status_code == 401

        refused = rotating[3].get("/login", auth=(user.username, user.password))

        assert refused.status_code == 429
        assert refused.json()["detail"] == "Too many attempts. Try again in 60 minutes."
        assert 3500 < int(refused.headers["Retry-After"]) <= 3600


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
