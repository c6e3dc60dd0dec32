"""The colour theme: PUT /user/theme, GET /user/, the header switch's form and what pages get."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.test.factories import Account, Pages

THEME_MESSAGE = "Theme must be system, light or dark."


def theme_of(client: TestClient, account: Account) -> str:
    theme: str = client.get("/user/", headers=account.headers).json()["theme"]
    return theme


class TestSetTheme:
    def test_new_accounts_follow_the_system(self, client: TestClient, user: Account) -> None:
        assert theme_of(client, user) == "system"

    @pytest.mark.parametrize("theme", ["dark", "light", "system"])
    def test_each_theme_is_saved(self, client: TestClient, user: Account, theme: str) -> None:
        client.put("/user/theme", json={"theme": "dark" if theme != "dark" else "light"}, headers=user.headers)

        response = client.put("/user/theme", json={"theme": theme}, headers=user.headers)

        assert response.status_code == 204
        assert response.content == b""
        assert theme_of(client, user) == theme

    @pytest.mark.parametrize(
        "body", [{"theme": "blue"}, {"theme": "Dark"}, {"theme": ""}, {"theme": None}, {"theme": 1}]
    )
    def test_anything_else_is_a_plain_422(self, client: TestClient, user: Account, body: dict[str, Any]) -> None:
        response = client.put("/user/theme", json=body, headers=user.headers)

        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == THEME_MESSAGE
        assert theme_of(client, user) == "system"

    def test_a_missing_or_extra_field_is_refused(self, client: TestClient, user: Account) -> None:
        missing = client.put("/user/theme", json={}, headers=user.headers)
        extra = client.put("/user/theme", json={"theme": "dark", "colour": "red"}, headers=user.headers)

        assert [missing.status_code, extra.status_code] == [422, 422]
        assert missing.json()["detail"][0]["msg"] == "Theme is required."
        assert theme_of(client, user) == "system"

    def test_only_the_callers_theme_changes(self, client: TestClient, user: Account, other_user: Account) -> None:
        client.put("/user/theme", json={"theme": "dark"}, headers=user.headers)

        assert theme_of(client, other_user) == "system"

    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.put("/user/theme", json={"theme": "dark"}).status_code == 401

    def test_a_cookie_caller_needs_the_csrf_header(self, client: TestClient, csrf: str, user: Account) -> None:
        refused = client.put("/user/theme", json={"theme": "dark"})
        accepted = client.put("/user/theme", json={"theme": "dark"}, headers={"X-CSRF-Token": csrf})

        assert [refused.status_code, accepted.status_code] == [403, 204]
        assert theme_of(client, user) == "dark"


class TestPagesGetTheTheme:
    def test_the_principal_of_a_page_carries_the_saved_theme(
        self, client: TestClient, pages: Pages, csrf: str, user: Account
    ) -> None:
        client.put("/user/theme", json={"theme": "dark"}, headers=user.headers)

        name, context = pages.of(client.get("/account-page"))

        assert name == "account.html"
        assert context["principal"].theme == "dark"
        assert context["this_page"] == "/account-page"

    def test_a_page_rendered_by_a_form_post_has_no_page_to_come_back_to(
        self, client: TestClient, pages: Pages, csrf: str
    ) -> None:
        response = client.post("/account-page/phone", data={"csrf_token": csrf, "phone_number": "+15551234567"})

        assert response.status_code == 200
        assert pages.of(response)[1]["this_page"] == ""


class TestThemeForm:
    def test_saves_and_shows_the_same_page_again(self, client: TestClient, csrf: str, user: Account) -> None:
        response = client.post(
            "/theme-page",
            data={"csrf_token": csrf, "theme": "light", "return_to": "/account-page?changed=calendar"},
            follow_redirects=False,
        )

        assert response.status_code == 303
        assert response.headers["location"] == "/account-page?changed=calendar"
        assert theme_of(client, user) == "light"

    @pytest.mark.parametrize("return_to", ["", "//evil.example/", "https://evil.example/"])
    def test_goes_to_the_list_when_there_is_no_safe_page(self, client: TestClient, csrf: str, return_to: str) -> None:
        response = client.post(
            "/theme-page", data={"csrf_token": csrf, "theme": "dark", "return_to": return_to}, follow_redirects=False
        )

        assert response.status_code == 303
        assert response.headers["location"] == "/todo-page"

    def test_an_unknown_theme_is_an_error_page(
        self, client: TestClient, pages: Pages, csrf: str, user: Account
    ) -> None:
        response = client.post("/theme-page", data={"csrf_token": csrf, "theme": "purple"})

        assert response.status_code == 422
        assert pages.of(response)[0] == "error.html"
        assert THEME_MESSAGE in response.text
        assert theme_of(client, user) == "system"

    def test_needs_the_csrf_token(self, client: TestClient, csrf: str, user: Account) -> None:
        response = client.post("/theme-page", data={"theme": "dark"}, follow_redirects=False)

        assert response.status_code == 403
        assert theme_of(client, user) == "system"

    def test_anonymous_goes_to_the_login_page(self, client: TestClient) -> None:
        response = client.post("/theme-page", data={"theme": "dark"}, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"].startswith("/login-page")
