"""POST /user/register, GET /user/, PUT /user/password, PUT /user/phonenumber/{phone_number}."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.models import User
from backend.test.conftest import ClientFactory
from backend.test.factories import (
    DEFAULT_PASSWORD,
    Account,
    Pages,
    bearer,
    login,
    register,
    unique_name,
    use_session,
    user_payload,
)

NEW_PASSWORD = "fresh-Meadow-violin-58"
USER_FIELDS = {"id", "username", "email", "first_name", "last_name", "phone_number", "role", "is_active", "created_at"}


def error_types(response: Any) -> set[str]:
    return {item["type"] for item in response.json()["detail"]}


def error_fields(response: Any) -> set[str]:
    return {item["loc"][-1] for item in response.json()["detail"]}


def assert_no_secrets(text: str) -> None:
    lowered = text.lower()
    assert "hashed_password" not in lowered
    assert "$argon2" not in lowered
    assert DEFAULT_PASSWORD.lower() not in lowered


class TestRegister:
    def test_creates_a_user(self, client: TestClient) -> None:
        payload = user_payload(phone_number="+15551234567")

        response = client.post("/user/register", json=payload)

        assert response.status_code == 201
        body = response.json()
        assert set(body) == USER_FIELDS
        assert body["username"] == payload["username"]
        assert body["email"] == payload["email"]
        assert body["first_name"] == "Ada"
        assert body["last_name"] == "Lovelace"
        assert body["phone_number"] == "+15551234567"
        assert body["role"] == "user"
        assert body["is_active"] is True
        assert_no_secrets(response.text)

    def test_the_new_user_can_log_in(self, client: TestClient) -> None:
        created = register(client)

        token = login(client, created["username"])

        assert client.get("/user/", headers=bearer(token)).json()["id"] == created["id"]

    def test_phone_number_is_optional(self, client: TestClient) -> None:
        assert register(client)["phone_number"] is None

    @pytest.mark.parametrize("username", ["abc", "a" * 32, "Mixed.Case_name-9"])
    def test_username_edges_are_accepted(self, client: TestClient, username: str) -> None:
        suffix = unique_name("")[-4:]
        name = username[: 32 - len(suffix)] + suffix if len(username) > 4 else username
        response = client.post("/user/register", json=user_payload(username=name))

        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        "username",
        ["ab", "a" * 33, "has space", "slash/name", "at@sign", "ünïcode", "emoji😀x", "", "tab\tname"],
    )
    def test_invalid_username_is_422(self, client: TestClient, username: str) -> None:
        response = client.post("/user/register", json=user_payload(username=username, email="valid@example.com"))

        assert response.status_code == 422
        assert "username" in error_fields(response)

    @pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
    def test_invalid_email_is_422(self, client: TestClient, email: str) -> None:
        response = client.post("/user/register", json=user_payload(email=email))

        assert response.status_code == 422
        assert "email" in error_fields(response)

    @pytest.mark.parametrize("field", ["first_name", "last_name"])
    @pytest.mark.parametrize("value", ["", "   ", "x" * 51])
    def test_invalid_name_is_422(self, client: TestClient, field: str, value: str) -> None:
        response = client.post("/user/register", json=user_payload(**{field: value}))

        assert response.status_code == 422
        assert field in error_fields(response)

    @pytest.mark.parametrize("field", ["first_name", "last_name"])
    @pytest.mark.parametrize("value", ["X", "x" * 50, "Zoë 🌸"])
    def test_name_edges_are_accepted(self, client: TestClient, field: str, value: str) -> None:
        response = client.post("/user/register", json=user_payload(**{field: value}))

        assert response.status_code == 201
        assert response.json()[field] == value

    @pytest.mark.parametrize(
        ("phone", "stored"),
        [("+44 20 7946 0958", "+442079460958"), ("(555) 123-4567", "5551234567"), ("555.123.4567", "5551234567")],
    )
    def test_phone_numbers_as_people_write_them_are_stored_as_digits(
        self, client: TestClient, phone: str, stored: str
    ) -> None:
        response = client.post("/user/register", json=user_payload(phone_number=phone))

        assert response.status_code == 201, response.text
        token = login(client, response.json()["username"])
        assert client.get("/user/", headers=bearer(token)).json()["phone_number"] == stored

    @pytest.mark.parametrize("phone", ["123456", "1" * 16, "+12-34x-6789", "phone12345", "++1234567", "+"])
    def test_invalid_phone_number_is_422(self, client: TestClient, phone: str) -> None:
        response = client.post("/user/register", json=user_payload(phone_number=phone))

        assert response.status_code == 422
        assert "phone_number" in error_fields(response)

    @pytest.mark.parametrize("phone", ["1234567", "+123456789012345"])
    def test_phone_number_edges_are_accepted(self, client: TestClient, phone: str) -> None:
        response = client.post("/user/register", json=user_payload(phone_number=phone))

        assert response.status_code == 201
        assert response.json()["phone_number"] == phone

    def test_role_field_is_refused_so_nobody_registers_as_admin(self, client: TestClient, db_session: Session) -> None:
        payload = user_payload(role="admin")

        response = client.post("/user/register", json=payload)

        assert response.status_code == 422
        assert "role" in error_fields(response)
        found = db_session.execute(select(User.id).where(User.username == payload["username"])).first()
        assert found is None

    def test_any_unknown_field_is_422(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(is_active=True))

        assert response.status_code == 422

    @pytest.mark.parametrize("field", ["username", "email", "first_name", "last_name", "password"])
    def test_missing_required_field_is_422(self, client: TestClient, field: str) -> None:
        payload = user_payload()
        del payload[field]

        response = client.post("/user/register", json=payload)

        assert response.status_code == 422
        assert field in error_fields(response)

    @pytest.mark.parametrize(
        ("field", "value"),
        [("username", 12345), ("email", ["a@example.com"]), ("first_name", None), ("password", 12345678)],
    )
    def test_wrong_type_is_422(self, client: TestClient, field: str, value: object) -> None:
        response = client.post("/user/register", json=user_payload(**{field: value}))

        assert response.status_code == 422

    def test_malformed_json_is_422(self, client: TestClient) -> None:
        response = client.post(
            "/user/register", content=b'{"username": "abc", ', headers={"Content-Type": "application/json"}
        )

        assert response.status_code == 422

    def test_a_json_array_is_422(self, client: TestClient) -> None:
        response = client.post("/user/register", json=[user_payload()])

        assert response.status_code == 422

    def test_a_nul_character_in_a_name_is_never_a_500(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(first_name="Nul\x00"))

        assert response.status_code in (201, 422)

    def test_duplicate_username_is_409(self, client: TestClient) -> None:
        first = register(client)

        response = client.post("/user/register", json=user_payload(username=first["username"]))

        assert response.status_code == 409
        assert isinstance(response.json()["detail"], str)

    def test_duplicate_username_in_another_case_is_409(self, client: TestClient) -> None:
        first = register(client, username=unique_name("Case"))

        response = client.post(
            "/user/register", json=user_payload(username=first["username"].swapcase(), email="other@example.com")
        )

        assert response.status_code == 409

    def test_duplicate_email_in_another_case_is_409(self, client: TestClient) -> None:
        first = register(client)

        response = client.post("/user/register", json=user_payload(email=first["email"].upper()))

        assert response.status_code == 409

    def test_register_limit_gives_429_with_retry_after(self, client_factory: ClientFactory) -> None:
        client = client_factory(RATE_LIMIT_REGISTER="2/hour")
        register(client)
        register(client)

        response = client.post("/user/register", json=user_payload())

        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0


class TestPasswordPolicy:
    def test_too_short(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(password="Zq8#kLm"))

        assert response.status_code == 422
        assert error_types(response) == {"password_length"}

    def test_too_long(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(password="Zq8#kLmw" * 32 + "x"))

        assert response.status_code == 422
        assert error_fields(response) == {"password"}

    def test_too_common(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(password="Sunshine1"))

        assert response.status_code == 422
        assert error_types(response) == {"password_too_common"}

    def test_all_digits(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(password="8047261935"))

        assert response.status_code == 422
        assert error_types(response) == {"password_entirely_numeric"}

    def test_too_similar_to_the_username(self, client: TestClient) -> None:
        name = unique_name("gandalf")
        response = client.post("/user/register", json=user_payload(username=name, password=f"{name}!!"))

        assert response.status_code == 422
        assert error_types(response) == {"password_too_similar"}

    def test_too_similar_to_the_email(self, client: TestClient) -> None:
        response = client.post(
            "/user/register", json=user_payload(email="bilbo.baggins@shire.example", password="BilboBaggins#1")
        )

        assert response.status_code == 422
        assert error_types(response) == {"password_too_similar"}

    def test_every_broken_rule_is_listed_in_one_answer(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(username="x1234567", password="1234567"))

        assert response.status_code == 422
        assert error_types(response) == {
            "password_length",
            "password_too_common",
            "password_entirely_numeric",
            "password_too_similar",
        }
        assert error_fields(response) == {"password"}
        assert all(isinstance(item["msg"], str) and item["msg"] for item in response.json()["detail"])

    def test_a_200_character_password_is_used_whole(self, client: TestClient) -> None:
        password = ("Correct-Horse-Battery-Staple-" * 7)[:200]
        created = register(client, password=password)

        assert client.get("/login", auth=(created["username"], password)).status_code == 200
        assert client.get("/login", auth=(created["username"], password[:72])).status_code == 401

    def test_a_password_differing_only_after_byte_72_is_refused(self, client: TestClient) -> None:
        password = "q" * 40 + "Lantern-Harbor-quiet-Meadow-91" + "A" * 60
        created = register(client, password=password)

        impostor = password[:72] + "B" * 60
        assert impostor.encode()[:72] == password.encode()[:72]
        assert client.get("/login", auth=(created["username"], impostor)).status_code == 401
        assert client.get("/login", auth=(created["username"], password)).status_code == 200

    def test_256_characters_are_allowed(self, client: TestClient) -> None:
        password = ("Violin-Meadow-73-" * 16)[:256]

        created = register(client, password=password)

        assert client.get("/login", auth=(created["username"], password)).status_code == 200

    def test_a_non_ascii_password_works_with_the_token_form(self, client: TestClient) -> None:
        password = "пароль-очень-надёжный-🔐-" * 5
        created = register(client, password=password)

        response = client.post("/auth/token", data={"username": created["username"], "password": password})

        assert response.status_code == 200

    def test_a_non_ascii_password_works_with_basic_auth(self, client: TestClient) -> None:
        # curl -u and browsers send UTF-8 (RFC 7617 charset="UTF-8").
        password = "пароль-очень-надёжный-🔐-" * 5
        created = register(client, password=password)

        assert client.get("/login", auth=(created["username"], password)).status_code == 200


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
    @pytest.fixture
    def csrf(self, client: TestClient, settings: Settings, user: Account) -> str:
        return use_session(client, settings, user)

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


class TestPasswordsAsTyped:
    def test_a_decomposed_accent_logs_in_like_the_composed_one(self, client: TestClient) -> None:
        composed = "Caf\u00e9-Meadow-violin-58"
        user = register(client, password=composed)

        token = login(client, user["username"], "Cafe\u0301-Meadow-violin-58")

        assert client.get("/user/", headers=bearer(token)).status_code == 200

    @pytest.mark.parametrize("password", ["        ", "\u200b" * 10, "\u3000" * 9, " \t \u00a0 \u2060 \u200b  "])
    def test_blank_or_invisible_passwords_are_refused(self, client: TestClient, password: str) -> None:
        response = client.post("/user/register", json=user_payload(password=password))

        assert response.status_code == 422
        assert any(error["loc"][-1] == "password" for error in response.json()["detail"])

    @pytest.mark.parametrize(
        ("username", "email", "password"),
        [
            ("alice_x", "alice_x@example.com", "Velvet-Compass-9042"),
            ("bobby", "bob@gmail.com", "Welcome-Orchid-5512"),
        ],
    )
    def test_unrelated_passwords_are_accepted(
        self, client: TestClient, username: str, email: str, password: str
    ) -> None:
        payload = user_payload(username=username + unique_name("")[-6:], email=email, password=password)

        assert client.post("/user/register", json=payload).status_code == 201

    def test_a_password_like_the_username_is_still_refused(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(username="alice_x", password="alice_x2026"))

        assert response.status_code == 422
        assert "too similar to your username" in response.json()["detail"][0]["msg"]

    def test_a_password_over_the_limit_is_422_naming_it_at_sign_up(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(password="Long-words-" * 30))

        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Password must be 8–256 characters."

    @pytest.mark.parametrize("length", [257, 5000, 100_000])
    def test_a_password_over_the_limit_is_401_at_login(self, client: TestClient, user: Account, length: int) -> None:
        response = client.get("/login", auth=(user.username, "p" * length))

        assert response.status_code == 401


class TestPhoneNumberPath:
    def test_punctuated_numbers_are_stored_as_digits(self, client: TestClient, user: Account) -> None:
        assert client.put("/user/phonenumber/(555) 123-4567", headers=user.headers).status_code == 204

        assert client.get("/user/", headers=user.headers).json()["phone_number"] == "5551234567"

    def test_letters_are_a_plain_422(self, client: TestClient, user: Account) -> None:
        response = client.put("/user/phonenumber/555-CALL-NOW", headers=user.headers)

        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Phone number must have 7–15 digits, with an optional + in front."
