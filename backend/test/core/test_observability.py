"""Request ids, structured logs, authentication events, the 500 boundary and Prometheus metrics."""

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.test.conftest import ClientFactory
from backend.test.factories import Account, bearer, login, make_todo, todo_payload, user_payload

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


class LogCapture:
    """JSON lines written by the app's own formatter, as they would reach stdout."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def events(self) -> dict[str, dict[str, Any]]:
        return {line["event"]: line for line in self.lines() if "event" in line}

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "backend.access"]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Everything the `backend` loggers write, formatted by the app's JSON formatter.

    (create_app installed that formatter when backend.main was imported.)
    """
    logger = logging.getLogger("backend")
    app_handler = next(h for h in logger.handlers if getattr(h, "_backend_json", False))
    capture = LogCapture()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(app_handler.formatter)
    logger.addHandler(handler)
    yield capture
    logger.removeHandler(handler)


class TestRequestId:
    def test_generated_when_absent(self, client: TestClient) -> None:
        assert REQUEST_ID.match(client.get("/health").headers["X-Request-ID"])

    def test_every_request_gets_its_own(self, client: TestClient) -> None:
        assert client.get("/health").headers["X-Request-ID"] != client.get("/health").headers["X-Request-ID"]

    def test_kept_when_the_client_or_proxy_sends_one(self, client: TestClient) -> None:
        response = client.get("/health", headers={"X-Request-ID": "nginx-42.abc:7"})

        assert response.headers["X-Request-ID"] == "nginx-42.abc:7"

    @pytest.mark.parametrize("value", ["has spaces in it", "x" * 129, 'quote"s', ""])
    def test_replaced_when_unsafe(self, client: TestClient, value: str) -> None:
        response = client.get("/health", headers={"X-Request-ID": value})

        assert REQUEST_ID.match(response.headers["X-Request-ID"])

    def test_present_on_errors_too(self, client: TestClient) -> None:
        assert REQUEST_ID.match(client.get("/todos/").headers["X-Request-ID"])


class TestAccessLog:
    def test_one_json_line_per_request_with_the_route_template(
        self, client: TestClient, user: Account, db_session: Session, logs: LogCapture
    ) -> None:
        todo = make_todo(db_session, user.id)

        response = client.get(f"/todos/{todo['id']}", headers=user.headers)

        (line,) = logs.access()
        assert line["request_id"] == response.headers["X-Request-ID"]
        assert line["method"] == "GET"
        assert line["route"] == "/todos/{todo_id}"
        assert line["status"] == 200
        assert line["user_id"] == user.id
        assert isinstance(line["duration_ms"], int | float)
        assert "time" in line

    def test_anonymous_and_unmatched_requests_are_logged(self, client: TestClient, logs: LogCapture) -> None:
        client.get("/no-such-path")

        (line,) = logs.access()
        assert (line["status"], line["route"], line["user_id"]) == (404, "unmatched", None)


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


class TestUnexpectedErrors:
    @pytest.fixture
    def broken_app(self, app: FastAPI) -> FastAPI:
        async def explode() -> None:
            raise RuntimeError("secret internal detail 4711")

        app.add_api_route("/explode", explode, methods=["GET"])
        return app

    def test_500_with_a_generic_body_and_no_traceback(self, broken_app: FastAPI, client_factory: ClientFactory) -> None:
        client = client_factory(broken_app, raise_server_exceptions=False)

        response = client.get("/explode")

        assert response.status_code == 500
        assert response.json() == {"detail": "Internal server error"}
        assert "Traceback" not in response.text
        assert "4711" not in response.text

    def test_the_500_carries_a_request_id(self, broken_app: FastAPI, client_factory: ClientFactory) -> None:
        client = client_factory(broken_app, raise_server_exceptions=False)

        response = client.get("/explode", headers={"X-Request-ID": "trace-me-500"})

        assert response.headers.get("X-Request-ID") == "trace-me-500"

    def test_the_traceback_is_logged_server_side(
        self, broken_app: FastAPI, client_factory: ClientFactory, logs: LogCapture
    ) -> None:
        client = client_factory(broken_app, raise_server_exceptions=False)

        client.get("/explode")

        errors = [line for line in logs.lines() if line["level"] == "ERROR"]
        assert errors
        assert "secret internal detail 4711" in errors[0]["exc_info"]
        assert "Traceback" in errors[0]["exc_info"]

    def test_the_error_log_line_carries_the_request_id(
        self, broken_app: FastAPI, client_factory: ClientFactory, logs: LogCapture
    ) -> None:
        client = client_factory(broken_app, raise_server_exceptions=False)

        client.get("/explode", headers={"X-Request-ID": "trace-me-500"})

        errors = [line for line in logs.lines() if line["level"] == "ERROR"]
        assert [line.get("request_id") for line in errors] == ["trace-me-500"]

    def test_the_access_line_records_the_500(
        self, broken_app: FastAPI, client_factory: ClientFactory, logs: LogCapture
    ) -> None:
        client = client_factory(broken_app, raise_server_exceptions=False)

        client.get("/explode")

        assert [(line["route"], line["status"]) for line in logs.access()] == [("/explode", 500)]


class TestMetrics:
    def test_request_counts_and_latency_by_route_template(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        todo = make_todo(db_session, user.id)
        client.get(f"/todos/{todo['id']}", headers=user.headers)
        client.post("/todos/todos", json=todo_payload(), headers=user.headers)

        text = client.get("/metrics").text

        assert 'http_requests_total{method="GET",route="/todos/{todo_id}",status="200"} 1.0' in text
        assert 'http_requests_total{method="POST",route="/todos/todos",status="201"} 1.0' in text
        assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/todos/{todo_id}"' in text
        assert "http_requests_in_flight" in text
        assert f"/todos/{todo['id']}" not in text

    def test_prometheus_text_format(self, client: TestClient) -> None:
        response = client.get("/metrics")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")

    def test_can_be_turned_off(self, client_factory: ClientFactory) -> None:
        assert client_factory(METRICS_ENABLED=False).get("/metrics").status_code == 404

    def test_not_in_the_api_document(self, client: TestClient) -> None:
        assert "/metrics" not in client.get("/openapi.json").json()["paths"]
