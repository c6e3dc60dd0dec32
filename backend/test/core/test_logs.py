"""Authentication events in the JSON logs (core/logs.py): who, what, from where, never a secret."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.logs import JsonFormatter, _sole_json_handler, info_line, request_id_var
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


@pytest.mark.parametrize(
    "created",
    [
        1765000000.0,
        1765000000.0005,  # rounds up to a whole millisecond
        1765000000.0004999,
        1765000000.9995,
        1765000000.9999996,  # rounds into the next second
        1765000059.999,
        1765000060.001,  # the next minute, just after a cached second
        1765000060.5,
    ],
)
def test_line_times_are_datetimes_iso_text(created: float) -> None:
    formatter = JsonFormatter()
    formatter.line_time(created - 1)  # a second already formatted
    for _ in range(2):  # formatted, then the same second again
        assert formatter.line_time(created) == datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class TestInfoLine:
    """`info_line` (the access line): the line `logger.info` would write, without its machinery."""

    FIELDS = {"method": "GET", "route": "/todos/{todo_id}", "status": 200, "user_id": 7, "client": None}

    @staticmethod
    def lines(stream: io.StringIO) -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    @pytest.fixture
    def app_stream(self) -> Iterator[io.StringIO]:
        """What the app's own JSON handler writes."""
        handler = next(h for h in logging.getLogger("backend").handlers if getattr(h, "_backend_json", False))
        assert isinstance(handler, logging.StreamHandler)
        stream = io.StringIO()
        previous = handler.setStream(stream)
        token = request_id_var.set("req-1")
        yield stream
        request_id_var.reset(token)
        handler.setStream(previous)

    @staticmethod
    @contextmanager
    def alone() -> Iterator[None]:
        """Only the app's handler attached, as when serving (pytest attaches its own per test)."""
        handlers = logging.getLogger("backend").handlers
        attached = list(handlers)
        handlers[:] = [h for h in attached if getattr(h, "_backend_json", False)]
        try:
            yield
        finally:
            handlers[:] = attached

    def test_the_same_line_as_the_logging_module_writes(self, app_stream: io.StringIO) -> None:
        logger = logging.getLogger("backend.access")
        with self.alone():
            assert _sole_json_handler(logger) is not None  # the direct path is the one tested here
            info_line(logger, "request", dict(self.FIELDS))
            logger.info("request", extra=dict(self.FIELDS))

        direct, logged = self.lines(app_stream)
        written = [datetime.fromisoformat(line.pop("time")) for line in (direct, logged)]
        assert timedelta(0) <= written[1] - written[0] < timedelta(seconds=1)
        assert list(direct.items()) == list(logged.items())  # the same keys, in the same order
        assert direct["request_id"] == "req-1"

    def test_another_handler_gets_the_line_through_logging(self, app_stream: io.StringIO, logs: LogCapture) -> None:
        assert _sole_json_handler(logging.getLogger("backend.access")) is None
        info_line(logging.getLogger("backend.access"), "request", dict(self.FIELDS))

        assert [line["route"] for line in logs.lines()] == ["/todos/{todo_id}"]
        assert [line["route"] for line in self.lines(app_stream)] == ["/todos/{todo_id}"]

    def test_nothing_below_the_configured_level(self, app_stream: io.StringIO) -> None:
        backend = logging.getLogger("backend")
        level = backend.level
        backend.setLevel(logging.WARNING)
        try:
            with self.alone():
                info_line(logging.getLogger("backend.access"), "request", dict(self.FIELDS))
        finally:
            backend.setLevel(level)
        assert app_stream.getvalue() == ""
