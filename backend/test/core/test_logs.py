"""Authentication events in the JSON logs (core/logs.py): who, what, from where, never a secret."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.test.conftest import ClientFactory
from backend.test.core.conftest import LogCapture
from backend.test.factories import Account, bearer, login, make_todo, user_payload


class TestAuthEvents:
    """Authentication events are logged with user and client address, never a secret."""

    def test_login_logout_and_failures(self, client: TestClient, user: Account, logs: LogCapture) -> None:
        token = login(client, user.username)
        client.get("/login", auth=(user.username, "wrong-password-1"))
        client.post("/auth/logout", headers=bearer(token))

        events = logs.events()
        assert events["login"]["user_id"] == user.id
        assert events["login"]["client"] == "testclient"
        assert "username" not in events["login_failed"]  # a password typed in the wrong box stays out of logs
        assert events["logout"]["user_id"] == user.id
        self.assert_no_secrets(logs, user.password, token, "wrong-password-1")

    def test_registration_and_password_change(self, client: TestClient, user: Account, logs: LogCapture) -> None:
        client.put(
            "/user/password",
            json={"password": user.password, "new_password": "fresh-Meadow-violin-58"},
            headers=user.headers,
        )
        client.post("/user/register", json=user_payload(password="another-Quiet-lantern-9"))

        events = logs.events()
        assert events["password_change"]["user_id"] == user.id
        assert "register" in events
        self.assert_no_secrets(logs, user.password, "fresh-Meadow-violin-58", "another-Quiet-lantern-9", user.token)

    def test_throttling_is_logged(self, client_factory: ClientFactory, user: Account, logs: LogCapture) -> None:
        throttled = client_factory(RATE_LIMIT_LOGIN="1/minute")

        throttled.get("/login", auth=(user.username, "wrong-password-1"))
        throttled.get("/login", auth=(user.username, "wrong-password-1"))

        event = logs.events()["login_throttled"]
        assert event["user_id"] == user.id
        assert event["client"] == "testclient"

    def test_admin_deletions(
        self, client: TestClient, admin: Account, user: Account, db_session: Session, logs: LogCapture
    ) -> None:
        todo = make_todo(db_session, admin.id)
        client.delete(f"/admin/todo/{todo['id']}", headers=admin.headers)
        client.delete(f"/admin/{user.username}", headers=admin.headers)

        events = logs.events()
        assert events["admin_delete_user"]["user_id"] == admin.id
        assert events["admin_delete_user"]["deleted_user_id"] == user.id
        assert events["admin_delete_todo"]["todo_id"] == todo["id"]
        self.assert_no_secrets(logs, admin.token)

    @staticmethod
    def assert_no_secrets(logs: LogCapture, *secrets: str) -> None:
        for secret in secrets:
            assert secret not in logs.text
        assert "$argon2" not in logs.text
        assert "hashed_password" not in logs.text
