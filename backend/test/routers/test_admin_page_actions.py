"""The admin page's role and standing buttons: plain form posts, demoting and deactivating
asked first on a confirmation page, refusals shown on the page in plain words."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.models import User
from backend.test.conftest import AccountFactory
from backend.test.factories import Account, Pages, use_session


@pytest.fixture
def csrf(client: TestClient, settings: Settings, admin: Account) -> str:
    """`client` is the admin's browser; the session's CSRF token."""
    return use_session(client, settings, admin)


def standing(session: Session, account: Account) -> tuple[str, bool]:
    row = session.execute(select(User.role, User.is_active).where(User.id == account.id)).one()
    return row.role, row.is_active


class TestRole:
    def test_make_admin_returns_to_the_same_search_and_offset_with_a_notice(
        self, client: TestClient, pages: Pages, csrf: str, user: Account, db_session: Session
    ) -> None:
        place = {"q": "user", "user_offset": "20"}

        response = client.post(
            f"/admin-page/users/{user.username}/role",
            data={"csrf_token": csrf, "role": "admin", **place},
            follow_redirects=False,
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/admin-page?q=user&user_offset=20&done=admin&who={user.username}"
        assert standing(db_session, user) == ("admin", True)
        _, context = pages.of(client.get(response.headers["location"]))
        assert context["notice"] == f"{user.username} is now an admin."

    def test_make_plain_user_is_asked_first(
        self, client: TestClient, pages: Pages, csrf: str, account_factory: AccountFactory, db_session: Session
    ) -> None:
        other = account_factory(role="admin")

        name, context = pages.of(
            client.get(f"/admin-page/users/{other.username}/role", params={"role": "user", "q": "ad"})
        )

        assert name == "admin_confirm.html"
        assert (context["heading"], context["label"]) == (f"Make {other.username} a plain user?", "Make plain user")
        assert context["fields"] == {"role": "user"}
        assert context["action"] == f"/admin-page/users/{other.username}/role"
        assert context["place"].q == "ad"
        assert standing(db_session, other) == ("admin", True)  # asking changes nothing

    def test_confirmed_the_admin_becomes_a_plain_user(
        self, client: TestClient, pages: Pages, csrf: str, account_factory: AccountFactory, db_session: Session
    ) -> None:
        other = account_factory(role="admin")

        response = client.post(f"/admin-page/users/{other.username}/role", data={"csrf_token": csrf, "role": "user"})

        _, context = pages.of(response)
        assert context["notice"] == f"{other.username} is now a plain user."
        assert standing(db_session, other) == ("user", True)

    def test_your_own_role_is_refused_on_the_page(
        self, client: TestClient, pages: Pages, csrf: str, admin: Account, db_session: Session
    ) -> None:
        response = client.post(
            f"/admin-page/users/{admin.username}/role", data={"csrf_token": csrf, "role": "user", "user_offset": "20"}
        )

        name, context = pages.of(response)
        assert (response.status_code, name) == (409, "admin.html")
        assert context["problem"] == "Admins cannot change their own role or standing; ask another admin"
        assert context["place"].user_offset == 20
        assert standing(db_session, admin) == ("admin", True)

    def test_an_unknown_user_is_said_on_the_page(self, client: TestClient, pages: Pages, csrf: str) -> None:
        response = client.post("/admin-page/users/nobody-here/role", data={"csrf_token": csrf, "role": "admin"})

        name, context = pages.of(response)
        assert (response.status_code, name, context["problem"]) == (404, "admin.html", "User not found")

    def test_needs_the_csrf_token(self, client: TestClient, csrf: str, user: Account, db_session: Session) -> None:
        response = client.post(f"/admin-page/users/{user.username}/role", data={"role": "admin"})

        assert response.status_code == 403
        assert standing(db_session, user) == ("user", True)

    def test_a_plain_user_cannot(
        self, client: TestClient, settings: Settings, user: Account, other_user: Account, db_session: Session
    ) -> None:
        token = use_session(client, settings, user)

        response = client.post(
            f"/admin-page/users/{other_user.username}/role", data={"csrf_token": token, "role": "admin"}
        )

        assert response.status_code == 403
        assert standing(db_session, other_user) == ("user", True)


class TestActive:
    def test_deactivate_is_asked_first(self, client: TestClient, pages: Pages, csrf: str, user: Account) -> None:
        name, context = pages.of(client.get(f"/admin-page/users/{user.username}/active", params={"is_active": "false"}))

        assert name == "admin_confirm.html"
        assert (context["heading"], context["label"]) == (f"Deactivate {user.username}?", "Deactivate")
        assert context["fields"] == {"is_active": "false"}

    def test_confirmed_the_user_is_deactivated_and_their_sessions_end(
        self, client: TestClient, pages: Pages, csrf: str, user: Account, db_session: Session
    ) -> None:
        response = client.post(
            f"/admin-page/users/{user.username}/active",
            data={"csrf_token": csrf, "is_active": "false", "q": "u"},
            follow_redirects=False,
        )

        assert response.headers["location"] == f"/admin-page?q=u&done=deactivated&who={user.username}"
        assert standing(db_session, user) == ("user", False)
        assert client.get("/user/", headers=user.headers).status_code == 401
        _, context = pages.of(client.get(response.headers["location"]))
        assert context["notice"] == f"{user.username} was deactivated; their sessions ended."
        assert {row["username"]: row["is_active"] for row in context["users"]}[user.username] is False

    def test_reactivate(self, client: TestClient, pages: Pages, csrf: str, user: Account, db_session: Session) -> None:
        for value in ("false", "true"):
            response = client.post(
                f"/admin-page/users/{user.username}/active", data={"csrf_token": csrf, "is_active": value}
            )

        assert pages.of(response)[1]["notice"] == f"{user.username} was reactivated and can log in again."
        assert standing(db_session, user) == ("user", True)

    def test_your_own_account_is_refused_on_the_page(
        self, client: TestClient, pages: Pages, csrf: str, admin: Account, db_session: Session
    ) -> None:
        response = client.post(
            f"/admin-page/users/{admin.username}/active", data={"csrf_token": csrf, "is_active": "false"}
        )

        name, context = pages.of(response)
        assert (response.status_code, name) == (409, "admin.html")
        assert "cannot change their own role or standing" in context["problem"]
        assert standing(db_session, admin) == ("admin", True)

    def test_a_tampered_value_changes_nothing(
        self, client: TestClient, csrf: str, user: Account, db_session: Session
    ) -> None:
        response = client.post(f"/admin-page/users/{user.username}/active", data={"csrf_token": csrf, "is_active": "x"})

        assert response.status_code == 422
        assert standing(db_session, user) == ("user", True)
