"""Names, email (with the password) and deleting the account, by API and on the account page."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.test.factories import Account, Pages, count_todos, make_todo, use_session, user_exists


class TestApi:
    def test_names_change(self, client: TestClient, user: Account) -> None:
        response = client.put("/user/profile", json={"first_name": " Ann ", "last_name": "Lee"}, headers=user.headers)

        assert response.status_code == 200
        assert (response.json()["first_name"], response.json()["last_name"]) == ("Ann", "Lee")
        assert client.put("/user/profile", json={"first_name": ""}, headers=user.headers).status_code == 422

    def test_email_changes_only_with_the_current_password(
        self, client: TestClient, user: Account, other_user: Account
    ) -> None:
        wrong = client.put("/user/email", json={"email": "new@example.com", "password": "nope"}, headers=user.headers)
        taken = client.put(
            "/user/email", json={"email": other_user.email.upper(), "password": user.password}, headers=user.headers
        )
        changed = client.put(
            "/user/email", json={"email": "New@Example.com", "password": user.password}, headers=user.headers
        )

        assert (wrong.status_code, wrong.json()) == (400, {"detail": "Current password is incorrect"})
        assert (taken.status_code, taken.json()) == (409, {"detail": "Email already registered"})
        assert (changed.status_code, changed.json()["email"]) == (
            200,
            "New@example.com",
        )  # the domain is normalised, as at sign-up
        assert client.get("/login", auth=("new@example.com", user.password)).status_code == 200

    def test_deleting_the_account_removes_everything_and_ends_the_session(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        make_todo(db_session, user.id)

        refused = client.request("DELETE", "/user/", json={"password": "nope"}, headers=user.headers)
        assert refused.status_code == 400 and user_exists(db_session, user.id)

        response = client.request("DELETE", "/user/", json={"password": user.password}, headers=user.headers)

        assert response.status_code == 204
        assert not user_exists(db_session, user.id)
        assert count_todos(db_session, user.id) == 0
        assert client.get("/user/", headers=user.headers).status_code == 401

    def test_the_last_admin_cannot_delete_their_account(
        self, client: TestClient, admin: Account, db_session: Session
    ) -> None:
        response = client.request("DELETE", "/user/", json={"password": admin.password}, headers=admin.headers)

        assert response.status_code == 409
        assert user_exists(db_session, admin.id)


class TestPage:
    def test_the_forms_save_and_say_so(
        self, client: TestClient, user: Account, settings: Settings, pages: Pages
    ) -> None:
        csrf = use_session(client, settings, user)

        named = client.post("/account-page/profile", data={"csrf_token": csrf, "first_name": "Ann", "last_name": "Lee"})
        assert (named.status_code, pages.of(named)[1]["notice"]) == (200, "Name saved.")
        emailed = client.post(
            "/account-page/email", data={"csrf_token": csrf, "email": "ann@example.org", "password": user.password}
        )
        _, context = pages.of(emailed)
        assert (context["notice"], context["user"].email) == ("Email address saved.", "ann@example.org")

    def test_mistakes_are_shown_beside_their_fields_and_what_was_typed_stays(
        self, client: TestClient, user: Account, settings: Settings, pages: Pages
    ) -> None:
        csrf = use_session(client, settings, user)

        response = client.post(
            "/account-page/email", data={"csrf_token": csrf, "email": "typed@example.org", "password": "wrong"}
        )

        _, context = pages.of(response)
        assert response.status_code == 400
        assert context["errors"] == {"email_password": ["Current password is incorrect"]}
        assert 'value="typed@example.org"' in response.text

    def test_delete_my_account_logs_out_to_the_login_page(
        self, client: TestClient, user: Account, settings: Settings, db_session: Session
    ) -> None:
        csrf = use_session(client, settings, user)

        wrong = client.post("/account-page/delete", data={"csrf_token": csrf, "delete_password": "nope"})
        assert wrong.status_code == 400 and user_exists(db_session, user.id)
        response = client.post(
            "/account-page/delete", data={"csrf_token": csrf, "delete_password": user.password}, follow_redirects=False
        )

        assert (response.status_code, response.headers["location"]) == (303, "/login-page?deleted=1")
        assert not user_exists(db_session, user.id)
        assert "Your account and everything in it were deleted." in client.get("/login-page?deleted=1").text

    def test_without_the_csrf_token_nothing_changes(
        self, client: TestClient, user: Account, settings: Settings
    ) -> None:
        use_session(client, settings, user)

        response = client.post("/account-page/delete", data={"delete_password": user.password})

        assert response.status_code == 403
