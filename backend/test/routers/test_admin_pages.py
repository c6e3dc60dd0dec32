"""The admin page: users searched and paged, all todos, dates, and deletes asked first."""

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.test.conftest import AccountFactory
from backend.test.factories import Account, Pages, count_todos, make_todo, use_session, user_exists


@pytest.fixture
def csrf(client: TestClient, settings: Settings, admin: Account) -> str:
    """`client` is the admin's browser; the session's CSRF token."""
    return use_session(client, settings, admin)


class TestAdminPage:
    def test_lists_users_and_todos(
        self, client: TestClient, pages: Pages, csrf: str, admin: Account, user: Account, db_session: Session
    ) -> None:
        make_todo(db_session, user.id)

        name, context = pages.of(client.get("/admin-page"))

        assert name == "admin.html"
        assert {"users", "todos", "user_paging", "todo_paging", "links", "place", "notice", "problem"} <= set(context)
        assert {row["username"]: row["is_self"] for row in context["users"]} == {
            admin.username: True,
            user.username: False,
        }
        assert len(context["todos"]) == 1
        assert (context["notice"], context["problem"]) == (None, None)

    def test_pages_users(self, client: TestClient, pages: Pages, csrf: str, account_factory: AccountFactory) -> None:
        for _ in range(21):
            account_factory()

        _, first = pages.of(client.get("/admin-page"))
        _, second = pages.of(client.get("/admin-page", params={"user_offset": 20}))

        assert len(first["users"]) == 20
        assert first["links"]["users_next"] == "/admin-page?user_offset=20"
        assert len(second["users"]) == 2
        assert second["links"]["users_prev"] == "/admin-page"

    def test_is_403_for_a_user(self, client: TestClient, pages: Pages, settings: Settings, user: Account) -> None:
        use_session(client, settings, user)

        response = client.get("/admin-page")

        assert response.status_code == 403
        assert pages.of(response)[0] == "error.html"

    @pytest.mark.parametrize(("param", "value"), [("user_offset", "9" * 40), ("todo_offset", "-1"), ("q", "x" * 255)])
    def test_a_bad_query_is_a_422_page(self, client: TestClient, csrf: str, param: str, value: str) -> None:
        assert client.get("/admin-page", params={param: value}).status_code == 422

    def test_dates_read_like_the_rest_of_the_app(
        self, client: TestClient, pages: Pages, csrf: str, user: Account, db_session: Session
    ) -> None:
        later = date.today() + timedelta(days=40)
        make_todo(db_session, user.id, due_date=later.isoformat(), due_time="09:30")

        _, context = pages.of(client.get("/admin-page"))

        assert {row["joined_label"] for row in context["users"]} == {"today"}
        assert context["todos"][0]["due_label"] == f"{later.strftime('%d %b %Y')} 09:30"


class TestSearch:
    def test_finds_users_by_username_or_email_ignoring_case(
        self, client: TestClient, pages: Pages, csrf: str, account_factory: AccountFactory
    ) -> None:
        by_name = account_factory(username="ZebraKeeper")
        by_email = account_factory(email="keeper.of.zebras@zoo.example")
        account_factory()

        _, context = pages.of(client.get("/admin-page", params={"q": " zebra "}))

        assert sorted(row["username"] for row in context["users"]) == sorted([by_name.username, by_email.username])
        assert context["user_paging"]["total"] == 2
        assert context["place"].q == "zebra"

    def test_paging_links_keep_the_search(
        self, client: TestClient, pages: Pages, csrf: str, account_factory: AccountFactory
    ) -> None:
        for number in range(22):
            account_factory(username=f"pager{number:02d}x")

        _, first = pages.of(client.get("/admin-page", params={"q": "pager"}))
        _, second = pages.of(client.get("/admin-page", params={"q": "pager", "user_offset": 20, "todo_offset": 0}))

        assert first["links"]["users_next"] == "/admin-page?q=pager&user_offset=20"
        assert [row["username"] for row in second["users"]] == ["pager20x", "pager21x"]
        assert second["links"]["users_prev"] == "/admin-page?q=pager"

    def test_no_match_says_so_in_plain_words(self, client: TestClient, pages: Pages, csrf: str) -> None:
        response = client.get("/admin-page", params={"q": "nobody-at-all"})

        _, context = pages.of(response)
        assert context["users"] == []
        assert "No users match “nobody-at-all”." in response.text


class TestDeleteUser:
    def test_the_confirmation_page_asks_first_and_keeps_the_place(
        self, client: TestClient, pages: Pages, csrf: str, user: Account
    ) -> None:
        response = client.get(f"/admin-page/users/{user.username}/delete", params={"q": "us", "todo_offset": 20})

        name, context = pages.of(response)
        assert (response.status_code, name) == (200, "admin_confirm.html")
        assert context["heading"] == f"Delete {user.username}?"
        assert context["action"] == f"/admin-page/users/{user.username}/delete"
        assert context["cancel_url"] == "/admin-page?q=us&todo_offset=20"

    def test_confirmed_it_deletes_and_returns_with_a_notice(
        self, client: TestClient, pages: Pages, csrf: str, user: Account, db_session: Session
    ) -> None:
        response = client.post(
            f"/admin-page/users/{user.username}/delete",
            data={"csrf_token": csrf, "q": "us"},
            follow_redirects=False,
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/admin-page?q=us&done=deleted&who={user.username}"
        assert not user_exists(db_session, user.id)
        _, context = pages.of(client.get(response.headers["location"]))
        assert context["notice"] == f"{user.username} was deleted, with all of their todos."

    def test_deleting_yourself_is_refused_on_the_page(
        self, client: TestClient, pages: Pages, csrf: str, admin: Account, db_session: Session
    ) -> None:
        response = client.post(f"/admin-page/users/{admin.username}/delete", data={"csrf_token": csrf, "q": "a"})

        name, context = pages.of(response)
        assert (response.status_code, name) == (409, "admin.html")
        assert context["problem"] == "Admins cannot delete their own account"
        assert context["place"].q == "a"
        assert user_exists(db_session, admin.id)

    def test_needs_the_csrf_token(self, client: TestClient, csrf: str, user: Account, db_session: Session) -> None:
        response = client.post(f"/admin-page/users/{user.username}/delete", follow_redirects=False)

        assert response.status_code == 403
        assert user_exists(db_session, user.id)


class TestDeleteTodo:
    def test_the_confirmation_page_names_the_todo(
        self, client: TestClient, pages: Pages, csrf: str, user: Account, db_session: Session
    ) -> None:
        todo = make_todo(db_session, user.id, title="Feed the cat")

        name, context = pages.of(client.get(f"/admin-page/todos/{todo['id']}/delete"))

        assert name == "admin_confirm.html"
        assert "“Feed the cat”" in context["text"]
        assert context["action"] == f"/admin-page/todos/{todo['id']}/delete"

    def test_an_unknown_todo_has_no_confirmation_page(self, client: TestClient, pages: Pages, csrf: str) -> None:
        response = client.get("/admin-page/todos/999999/delete")

        assert (response.status_code, pages.of(response)[0]) == (404, "error.html")

    def test_confirmed_it_deletes_and_returns_to_the_same_page(
        self, client: TestClient, csrf: str, user: Account, db_session: Session
    ) -> None:
        todo = make_todo(db_session, user.id)

        response = client.post(
            f"/admin-page/todos/{todo['id']}/delete",
            data={"csrf_token": csrf, "todo_offset": "20", "user_offset": "junk"},
            follow_redirects=False,
        )

        assert response.status_code == 303
        assert response.headers["location"] == "/admin-page?todo_offset=20&done=todo_deleted"
        assert count_todos(db_session) == 0
