"""Validation errors in plain words, bounded in count and size, for forms and the API."""

import json

import pytest
from fastapi.testclient import TestClient

from backend.core.config import Settings
from backend.core.validation import MAX_ERRORS, MAX_INPUT_CHARS, field_errors, public_errors
from backend.test.conftest import ClientFactory
from backend.test.factories import Account, Pages, use_session, user_payload

JARGON = ("String should", "Input should", "value is not a valid", "pattern", "^", "Value error")


class TestPublicErrors:
    def test_at_most_fifty_errors_are_reported(self) -> None:
        errors = [
            {"type": "missing", "loc": ("body", f"f{n}"), "msg": "Field required", "input": {}} for n in range(80)
        ]

        assert len(public_errors(errors)) == MAX_ERRORS

    def test_inputs_are_cut_short_and_objects_are_not_echoed(self) -> None:
        long_input = {"type": "string_too_long", "loc": ("body", "title"), "msg": "m", "input": "x" * 10_000}
        whole_body = {"type": "missing", "loc": ("body", "title"), "msg": "m", "input": {"a": "b" * 10_000}}

        shown = public_errors([long_input, whole_body])

        assert len(shown[0]["input"]) == MAX_INPUT_CHARS
        assert shown[1]["input"] is None

    def test_field_messages_are_plain_words(self) -> None:
        errors = [
            {
                "type": "string_pattern_mismatch",
                "loc": ("body", "username"),
                "msg": "String should match pattern '^[A-Z]'",
            },
            {"type": "value_error", "loc": ("body", "email"), "msg": "value is not a valid email address: no @"},
        ]

        assert field_errors(errors) == {
            "username": ["Username must be 3–32 characters: letters, digits, _ . -"],
            "email": ["Enter an email address like name@example.com."],
        }


class TestApiErrors:
    def test_eighty_thousand_unknown_keys_get_one_small_answer(self, client: TestClient) -> None:
        body = json.dumps({f"k{n}": n for n in range(80_000)})[: 1024 * 1024 - 2].rsplit(",", 1)[0] + "}"

        response = client.post("/user/register", content=body, headers={"content-type": "application/json"})

        assert response.status_code == 422
        assert len(response.content) < 2000
        assert response.json()["detail"][0]["type"] == "too_many_fields"

    def test_messages_in_the_api_are_the_form_messages(self, client: TestClient) -> None:
        response = client.post("/user/register", json=user_payload(username="a!", email="nope", first_name=""))

        messages = {error["loc"][-1]: error["msg"] for error in response.json()["detail"]}
        assert messages["username"] == "Username must be 3–32 characters: letters, digits, _ . -"
        assert messages["email"] == "Enter an email address like name@example.com."
        assert messages["first_name"] == "First name must be 1–50 characters."
        assert not any(word in message for message in messages.values() for word in JARGON)

    def test_sign_up_validation_counts_against_the_sign_up_limit(self, client_factory: ClientFactory) -> None:
        client = client_factory(RATE_LIMIT_REGISTER="2/hour")
        statuses = [client.post("/user/register", json={"bad": 1}).status_code for _ in range(3)]

        assert statuses == [422, 422, 429]


class TestFormErrors:
    def test_every_sign_up_field_is_checked_at_once_in_plain_words(self, client: TestClient, pages: Pages) -> None:
        form = {**user_payload(username="x", email="no-at", password="123"), "phone_number": "call me"}

        response = client.post("/register-page", data=form)

        name, context = pages.of(response)
        assert (response.status_code, name) == (422, "register.html")
        assert set(context["errors"]) == {"username", "email", "phone_number", "password"}
        assert "Password must be at least 8 characters long." in context["errors"]["password"]
        messages = [m for field in context["errors"].values() for m in field]
        assert not any(word in message for message in messages for word in JARGON)
        assert context["values"]["username"] == "x" and "password" not in context["values"]

    @pytest.mark.parametrize("priority", ["²", "①", "9" * 5000, "3.0", "-1"])
    def test_odd_priorities_are_a_form_error_not_a_500(
        self, client: TestClient, pages: Pages, settings: Settings, user: Account, priority: str
    ) -> None:
        csrf = use_session(client, settings, user)

        response = client.post("/add-todo-page", data={"title": "T", "priority": priority, "csrf_token": csrf})

        name, context = pages.of(response)
        assert (response.status_code, name) == (422, "todo_form.html")
        assert context["errors"]["priority"] == ["Priority must be a whole number from 1 to 5."]
