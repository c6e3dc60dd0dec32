"""The caller's account: GET /user/, PUT /user/password, PUT /user/phonenumber/{phone_number}, the account page."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.core.config import Settings
from backend.test.conftest import ClientFactory
from backend.test.factories import Account, Pages, bearer, login, use_session
from backend.test.routers.conftest import USER_FIELDS, assert_no_secrets, error_fields, error_types

NEW_PASSWORD = "fresh-Meadow-violin-58"


class TestReadMe:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        response = client.get("/user/")

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    def test_returns_the_current_user_without_secrets(self, client: TestClient, user: Account) -> None:
        response = client.get("/user/", headers=user.headers)

        assert response.status_code == 200
        body = response.json()
        assert set(body) == USER_FIELDS
        assert body["id"] == user.id
        assert body["username"] == user.username
        assert body["role"] == "user"
        assert_no_secrets(response.text)

    def test_admins_see_their_role(self, client: TestClient, admin: Account) -> None:
        assert client.get("/user/", headers=admin.headers).json()["role"] == "admin"


class TestChangePassword:
    def change(self, client: TestClient, account: Account, **body: Any) -> Any:
        payload = {"password": account.password, "new_password": NEW_PASSWORD, **body}
        return client.put("/user/password", json=payload, headers=account.headers)

    def test_changes_the_password(self, client: TestClient, user: Account) -> None:
        response = self.change(client, user)

        assert response.status_code == 204
        assert response.content == b""
        assert client.get("/login", auth=(user.username, user.password)).status_code == 401
        assert client.get("/login", auth=(user.username, NEW_PASSWORD)).status_code == 200

    def test_every_older_token_is_refused_afterwards(self, client: TestClient, user: Account) -> None:
        other_session = login(client, user.username)

        assert self.change(client, user).status_code == 204

        assert client.get("/user/", headers=user.headers).status_code == 401
        assert client.get("/user/", headers=bearer(other_session)).status_code == 401
        assert client.get("/user/", headers=bearer(login(client, user.username, NEW_PASSWORD))).status_code == 200

    def test_wrong_current_password_is_400(self, client: TestClient, user: Account) -> None:
        response = self.change(client, user, password="not-my-password-1")

        assert response.status_code == 400
        assert isinstance(response.json()["detail"], str)
        assert client.get("/user/", headers=user.headers).status_code == 200

    def test_new_password_breaking_the_policy_is_422(self, client: TestClient, user: Account) -> None:
        response = self.change(client, user, new_password="12345678")

        assert response.status_code == 422
        assert error_fields(response) == {"new_password"}
        assert {"password_too_common", "password_entirely_numeric"} <= error_types(response)
        assert client.get("/login", auth=(user.username, user.password)).status_code == 200

    def test_new_password_like_the_username_is_422(self, client: TestClient, user: Account) -> None:
        response = self.change(client, user, new_password=f"{user.username}-2024")

        assert response.status_code == 422
        assert "password_too_similar" in error_types(response)

    def test_unknown_field_is_422(self, client: TestClient, user: Account) -> None:
        assert self.change(client, user, role="admin").status_code == 422

    def test_missing_new_password_is_422(self, client: TestClient, user: Account) -> None:
        response = client.put("/user/password", json={"password": user.password}, headers=user.headers)

        assert response.status_code == 422

    def test_anonymous_is_401(self, client: TestClient) -> None:
        response = client.put("/user/password", json={"password": "x" * 10, "new_password": NEW_PASSWORD})

        assert response.status_code == 401


class TestPhoneNumber:
    @pytest.mark.parametrize("phone", ["+15551234567", "5551234", "123456789012345"])
    def test_sets_the_phone_number(self, client: TestClient, user: Account, phone: str) -> None:
        response = client.put(f"/user/phonenumber/{phone}", headers=user.headers)

        assert response.status_code == 204
        assert client.get("/user/", headers=user.headers).json()["phone_number"] == phone

    @pytest.mark.parametrize("phone", ["123456", "1234567890123456", "12a4567", "++1234567", "%2B%2B12345678"])
    def test_invalid_phone_number_is_422(self, client: TestClient, user: Account, phone: str) -> None:
        response = client.put(f"/user/phonenumber/{phone}", headers=user.headers)

        assert response.status_code == 422
        assert client.get("/user/", headers=user.headers).json()["phone_number"] is None

    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.put("/user/phonenumber/+15551234567").status_code == 401

    def test_only_changes_the_callers_number(self, client: TestClient, user: Account, other_user: Account) -> None:
        client.put("/user/phonenumber/+15551234567", headers=user.headers)

        assert client.get("/user/", headers=other_user.headers).json()["phone_number"] is None


class TestAccountPages:
    def test_account_page(self, client: TestClient, pages: Pages, csrf: str, user: Account) -> None:
        name, context = pages.of(client.get("/account-page"))

        assert name == "account.html"
        assert {"user", "errors", "notice", "values"} <= set(context)
        assert context["user"].id == user.id

    def test_password_form_changes_it_and_ends_the_session(self, client: TestClient, csrf: str, user: Account) -> None:
        response = client.post(
            "/account-page/password",
            data={"csrf_token": csrf, "password": user.password, "new_password": NEW_PASSWORD},
            follow_redirects=False,
        )

        assert (response.status_code, response.headers["location"]) == (303, "/login-page?changed=1")
        assert client.get("/user/", headers=user.headers).status_code == 401

    def test_password_form_wrong_current_password_is_400(self, client: TestClient, pages: Pages, csrf: str) -> None:
        response = client.post(
            "/account-page/password",
            data={"csrf_token": csrf, "password": "not-my-password-1", "new_password": NEW_PASSWORD},
        )

        assert response.status_code == 400
        assert "password" in pages.of(response)[1]["errors"]

    def test_password_form_policy_error_is_422_on_the_new_password(
        self, client: TestClient, pages: Pages, csrf: str, user: Account
    ) -> None:
        response = client.post(
            "/account-page/password",
            data={"csrf_token": csrf, "password": user.password, "new_password": "12345678"},
        )

        assert response.status_code == 422
        assert "new_password" in pages.of(response)[1]["errors"]

    def test_password_form_empty_fields_are_422(self, client: TestClient, pages: Pages, csrf: str) -> None:
        response = client.post("/account-page/password", data={"csrf_token": csrf})

        assert response.status_code == 422
        assert pages.of(response)[1]["errors"]

    def test_phone_form_saves(self, client: TestClient, pages: Pages, csrf: str, user: Account) -> None:
        response = client.post("/account-page/phone", data={"csrf_token": csrf, "phone_number": " +15551234567 "})

        assert response.status_code == 200
        assert pages.of(response)[1]["notice"]
        assert client.get("/user/", headers=user.headers).json()["phone_number"] == "+15551234567"

    def test_phone_form_blank_clears_it(self, client: TestClient, csrf: str, user: Account) -> None:
        client.put("/user/phonenumber/+15551234567", headers=user.headers)

        client.post("/account-page/phone", data={"csrf_token": csrf, "phone_number": ""})

        assert client.get("/user/", headers=user.headers).json()["phone_number"] is None

    def test_phone_form_invalid_is_422(self, client: TestClient, pages: Pages, csrf: str) -> None:
        response = client.post("/account-page/phone", data={"csrf_token": csrf, "phone_number": "12-34"})

        _, context = pages.of(response)
        assert response.status_code == 422
        assert "phone_number" in context["errors"]
        assert context["values"] == {"phone_number": "12-34"}


class TestPasswordCheckThrottle:
    def test_current_password_checks_are_limited_per_user(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(RATE_LIMIT_PASSWORD_CHECK="2/15 minutes")
        body = {"password": "not-the-password-1", "new_password": NEW_PASSWORD}
        statuses = [client.put("/user/password", json=body, headers=user.headers) for _ in range(3)]

        assert [r.status_code for r in statuses] == [400, 400, 429]
        assert 0 < int(statuses[-1].headers["Retry-After"]) <= 900

    def test_the_account_page_shares_the_limit(
        self, client_factory: ClientFactory, user: Account, settings: Settings
    ) -> None:
        client = client_factory(RATE_LIMIT_PASSWORD_CHECK="1/15 minutes")
        csrf = use_session(client, settings, user)
        form = {"password": "not-the-password-1", "new_password": NEW_PASSWORD, "csrf_token": csrf}

        assert client.post("/account-page/password", data=form).status_code == 400
        assert client.post("/account-page/password", data=form).status_code == 429


class TestPhoneNumberPath:
    def test_punctuated_numbers_are_stored_as_digits(self, client: TestClient, user: Account) -> None:
        assert client.put("/user/phonenumber/(555) 123-4567", headers=user.headers).status_code == 204

        assert client.get("/user/", headers=user.headers).json()["phone_number"] == "5551234567"

    def test_letters_are_a_plain_422(self, client: TestClient, user: Account) -> None:
        response = client.put("/user/phonenumber/555-CALL-NOW", headers=user.headers)

        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Phone number must have 7–15 digits, with an optional + in front."
