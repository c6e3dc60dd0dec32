"""Admin JSON endpoints: every user, every todo, deletions. Admin role only (the page: test_admin_pages.py)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.models import RevokedToken, User
from backend.services.users import promote
from backend.test.conftest import AccountFactory
from backend.test.factories import Account, count_todos, login, make_todo, user_exists
from backend.test.routers.conftest import total


def usernames(response: Any) -> list[str]:
    return [item["username"] for item in response.json()]


ADMIN_ENDPOINTS = [
    ("GET", "/admin/user"),
    ("GET", "/admin/todo"),
    ("DELETE", "/admin/someone"),
    ("DELETE", "/admin/todo/1"),
]


class TestAdminAccess:
    @pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
    def test_anonymous_is_401(self, client: TestClient, method: str, path: str) -> None:
        response = client.request(method, path)

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    @pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
    def test_a_user_is_403(self, client: TestClient, user: Account, method: str, path: str) -> None:
        response = client.request(method, path, headers=user.headers)

        assert response.status_code == 403
        assert isinstance(response.json()["detail"], str)

    def test_an_invalid_token_is_401_not_403(self, client: TestClient) -> None:
        response = client.get("/admin/user", headers={"Authorization": "Bearer nonsense"})

        assert response.status_code == 401


class TestListUsers:
    def test_lists_every_user_without_secrets(
        self, client: TestClient, admin: Account, user: Account, other_user: Account
    ) -> None:
        response = client.get("/admin/user", headers=admin.headers)

        assert response.status_code == 200
        assert sorted(usernames(response)) == sorted([admin.username, user.username, other_user.username])
        assert total(response) == 3
        assert "hashed_password" not in response.text
        assert "$argon2" not in response.text

    def test_paging_with_limit_and_offset(
        self, client: TestClient, admin: Account, account_factory: AccountFactory
    ) -> None:
        for _ in range(4):
            account_factory()
        everyone = usernames(client.get("/admin/user", headers=admin.headers))

        first = client.get("/admin/user", params={"limit": 2}, headers=admin.headers)
        rest = client.get("/admin/user", params={"limit": 2, "offset": 2}, headers=admin.headers)
        beyond = client.get("/admin/user", params={"offset": 50}, headers=admin.headers)

        assert usernames(first) + usernames(rest) == everyone[:4]
        assert beyond.json() == []
        assert [total(r) for r in (first, rest, beyond)] == [5, 5, 5]

    def test_search_by_username_or_email_ignoring_case(
        self, client: TestClient, admin: Account, account_factory: AccountFactory
    ) -> None:
        by_name = account_factory(username="ZebraKeeper")
        by_email = account_factory(email="keeper.of.zebras@zoo.example")
        account_factory()

        response = client.get("/admin/user", params={"q": "ZEBRA"}, headers=admin.headers)

        assert sorted(usernames(response)) == sorted([by_name.username, by_email.username])
        assert total(response) == 2

    @pytest.mark.parametrize(("name", "value"), [("limit", "0"), ("limit", "101"), ("offset", "-1"), ("limit", "x")])
    def test_invalid_paging_is_422(self, client: TestClient, admin: Account, name: str, value: str) -> None:
        assert client.get("/admin/user", params={name: value}, headers=admin.headers).status_code == 422


class TestListAllTodos:
    def test_lists_every_users_todos_with_their_owner(
        self, client: TestClient, admin: Account, user: Account, other_user: Account, db_session: Session
    ) -> None:
        mine = make_todo(db_session, user.id)
        theirs = make_todo(db_session, other_user.id)

        response = client.get("/admin/todo", headers=admin.headers)

        assert response.status_code == 200
        owners = {item["id"]: item["owner"] for item in response.json()}
        assert owners == {mine["id"]: user.username, theirs["id"]: other_user.username}
        assert total(response) == 2

    def test_filter_by_owner(
        self, client: TestClient, admin: Account, user: Account, other_user: Account, db_session: Session
    ) -> None:
        mine = [make_todo(db_session, user.id)["id"] for _ in range(2)]
        make_todo(db_session, other_user.id)

        response = client.get("/admin/todo", params={"owner": user.username}, headers=admin.headers)

        assert sorted(item["id"] for item in response.json()) == sorted(mine)
        assert total(response) == 2

    def test_filter_by_unknown_owner_is_empty(self, client: TestClient, admin: Account, db_session: Session) -> None:
        make_todo(db_session, admin.id)

        response = client.get("/admin/todo", params={"owner": "nobody"}, headers=admin.headers)

        assert response.status_code == 200
        assert response.json() == []
        assert total(response) == 0

    def test_paging_newest_first(self, client: TestClient, admin: Account, user: Account, db_session: Session) -> None:
        created = [make_todo(db_session, user.id)["id"] for _ in range(5)]

        first = client.get("/admin/todo", params={"limit": 2}, headers=admin.headers)
        last = client.get("/admin/todo", params={"limit": 2, "offset": 4}, headers=admin.headers)

        assert [item["id"] for item in first.json()] == created[::-1][:2]
        assert [item["id"] for item in last.json()] == created[:1]
        assert total(first) == total(last) == 5

    def test_reading_deletes_nothing(
        self, client: TestClient, admin: Account, user: Account, db_session: Session
    ) -> None:
        for _ in range(3):
            make_todo(db_session, user.id)

        for params in ({}, {"owner": user.username}, {"limit": 1}):
            assert client.get("/admin/todo", params=params, headers=admin.headers).status_code == 200

        assert count_todos(db_session) == 3
        assert total(client.get("/todos/", headers=user.headers)) == 3

    @pytest.mark.parametrize(
        ("name", "value"), [("limit", "0"), ("limit", "101"), ("offset", "-1"), ("owner", "x" * 33)]
    )
    def test_invalid_query_is_422(self, client: TestClient, admin: Account, name: str, value: str) -> None:
        assert client.get("/admin/todo", params={name: value}, headers=admin.headers).status_code == 422


class TestDeleteUser:
    def test_deletes_the_user_their_todos_and_their_tokens(
        self, client: TestClient, admin: Account, user: Account, other_user: Account, db_session: Session
    ) -> None:
        for _ in range(3):
            make_todo(db_session, user.id)
        kept = make_todo(db_session, other_user.id)
        session_token = login(client, user.username)
        client.post("/auth/logout", headers={"Authorization": f"Bearer {login(client, user.username)}"})

        response = client.delete(f"/admin/{user.username}", headers=admin.headers)

        assert response.status_code == 204
        assert response.content == b""
        assert not user_exists(db_session, user.id)
        assert count_todos(db_session, user.id) == 0
        assert count_todos(db_session) == 1
        assert client.get(f"/todos/{kept['id']}", headers=other_user.headers).status_code == 200
        assert client.get("/user/", headers=user.headers).status_code == 401
        assert client.get("/user/", headers={"Authorization": f"Bearer {session_token}"}).status_code == 401
        revoked = db_session.execute(
            select(func.count()).select_from(RevokedToken).where(RevokedToken.user_id == user.id)
        ).scalar_one()
        assert revoked == 0

    def test_the_deleted_user_cannot_log_in(self, client: TestClient, admin: Account, user: Account) -> None:
        client.delete(f"/admin/{user.username}", headers=admin.headers)

        assert client.get("/login", auth=(user.username, user.password)).status_code == 401

    def test_username_is_matched_ignoring_case(
        self, client: TestClient, admin: Account, user: Account, db_session: Session
    ) -> None:
        response = client.delete(f"/admin/{user.username.upper()}", headers=admin.headers)

        assert response.status_code == 204
        assert not user_exists(db_session, user.id)

    def test_unknown_user_is_404(self, client: TestClient, admin: Account) -> None:
        response = client.delete("/admin/no-such-user", headers=admin.headers)

        assert response.status_code == 404
        assert isinstance(response.json()["detail"], str)

    def test_deleting_yourself_is_409(self, client: TestClient, admin: Account, db_session: Session) -> None:
        response = client.delete(f"/admin/{admin.username}", headers=admin.headers)

        assert response.status_code == 409
        assert user_exists(db_session, admin.id)

    def test_an_admin_can_delete_another_admin(
        self, client: TestClient, admin: Account, account_factory: AccountFactory, db_session: Session
    ) -> None:
        second = account_factory(role="admin")

        assert client.delete(f"/admin/{second.username}", headers=admin.headers).status_code == 204
        assert not user_exists(db_session, second.id)

    def test_a_user_cannot_delete_anyone(
        self, client: TestClient, user: Account, other_user: Account, db_session: Session
    ) -> None:
        assert client.delete(f"/admin/{other_user.username}", headers=user.headers).status_code == 403
        assert user_exists(db_session, other_user.id)

    def test_a_promoted_user_gains_admin_rights(self, client: TestClient, user: Account, db_session: Session) -> None:
        promote(db_session, username=user.username)

        assert client.get("/admin/user", headers=user.headers).status_code == 200
        assert db_session.execute(select(User.role).where(User.id == user.id)).scalar_one() == "admin"


class TestAdminWrites:
    def test_an_admin_demoted_meanwhile_deletes_nothing(
        self, client: TestClient, admin: Account, user: Account, db_session: Session
    ) -> None:
        db_session.execute(update(User).where(User.id == admin.id).values(role="user"))
        db_session.commit()

        assert client.delete(f"/admin/{user.username}", headers=admin.headers).status_code == 403
        assert user_exists(db_session, user.id)


class TestDeleteAnyTodo:
    def test_deletes_anyones_todo(self, client: TestClient, admin: Account, user: Account, db_session: Session) -> None:
        todo, kept = make_todo(db_session, user.id), make_todo(db_session, user.id)

        response = client.delete(f"/admin/todo/{todo['id']}", headers=admin.headers)

        assert response.status_code == 204
        listed = client.get("/todos/", headers=user.headers)
        assert [item["id"] for item in listed.json()] == [kept["id"]]
        assert total(listed) == 1

    def test_unknown_todo_is_404(self, client: TestClient, admin: Account) -> None:
        response = client.delete("/admin/todo/999999", headers=admin.headers)

        assert response.status_code == 404
        assert response.json() == {"detail": "Todo not found"}

    @pytest.mark.parametrize("todo_id", ["0", "-1", "abc"])
    def test_invalid_id_is_422(self, client: TestClient, admin: Account, todo_id: str) -> None:
        assert client.delete(f"/admin/todo/{todo_id}", headers=admin.headers).status_code == 422
