"""PUT /admin/{username}/role and /active: admins change other users' role and standing."""

from fastapi.testclient import TestClient
from httpx2 import Response

from backend.test.factories import Account


def role(client: TestClient, admin: Account, username: str, value: object) -> Response:
    return client.put(f"/admin/{username}/role", json={"role": value}, headers=admin.headers)


def active(client: TestClient, admin: Account, username: str, value: object) -> Response:
    return client.put(f"/admin/{username}/active", json={"is_active": value}, headers=admin.headers)


class TestRole:
    def test_an_admin_promotes_and_demotes_another_user(
        self, client: TestClient, admin: Account, user: Account
    ) -> None:
        promoted = role(client, admin, user.username.upper(), "admin")

        assert promoted.status_code == 200
        assert promoted.json()["role"] == "admin"
        assert client.get("/admin/user", headers=user.headers).status_code == 200  # the same token, now an admin
        assert role(client, admin, user.username, "user").json()["role"] == "user"
        assert client.get("/admin/user", headers=user.headers).status_code == 403

    def test_refusals(self, client: TestClient, admin: Account, user: Account) -> None:
        assert role(client, admin, admin.username, "user").status_code == 409
        assert role(client, admin, "nobody-here", "admin").status_code == 404
        assert role(client, admin, user.username, "root").status_code == 422
        assert role(client, user, admin.username, "user").status_code == 403
        assert client.put(f"/admin/{user.username}/role", json={"role": "admin"}).status_code == 401


class TestActive:
    def test_deactivation_ends_every_session_at_once_and_for_good(
        self, client: TestClient, admin: Account, user: Account
    ) -> None:
        assert client.get("/user/", headers=user.headers).status_code == 200

        response = active(client, admin, user.username, False)

        assert (response.status_code, response.json()["is_active"]) == (200, False)
        assert client.get("/user/", headers=user.headers).status_code == 401
        assert client.get("/login", auth=(user.username, user.password)).status_code == 401
        assert active(client, admin, user.username, True).json()["is_active"] is True
        assert client.get("/user/", headers=user.headers).status_code == 401  # the old token stays dead
        assert client.get("/login", auth=(user.username, user.password)).status_code == 200

    def test_refusals(self, client: TestClient, admin: Account, user: Account) -> None:
        assert active(client, admin, admin.username, False).status_code == 409
        assert active(client, admin, "nobody-here", False).status_code == 404
        assert active(client, admin, user.username, "no").status_code == 422
        assert active(client, admin, user.username, 0).status_code == 422
