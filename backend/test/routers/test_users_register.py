"""POST /user/register: the sign-up payload, the password policy, passwords as typed."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import User
from backend.test.conftest import ClientFactory
from backend.test.factories import Account, bearer, login, register, unique_name, user_payload
from backend.test.routers.conftest import USER_FIELDS, assert_no_secrets, error_fields, error_types


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
        # A username without digits: a generated one can share enough with the password
        # to be "too similar" as well.
        name = unique_name("digits").translate(str.maketrans("0123456789", "ghijklmnop"))
        response = client.post("/user/register", json=user_payload(username=name, password="8047261935"))

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
