"""Logging in for a bearer token: POST /auth/token (Basic and form), POST /auth/logout, login throttles."""

import base64

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.main import create_app
from backend.test.conftest import AccountFactory, ClientFactory, SettingsFactory
from backend.test.factories import Account, bearer, jwt_claims, login, set_active
from backend.test.routers.conftest import whoami


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
