"""The request context middleware (core/middleware.py): request ids, the access line, the 500 boundary."""

import gc
import logging
import re
import weakref

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send

from backend.core.memory import BodyCollector
from backend.core.middleware import RequestContextMiddleware
from backend.core.request_limits import RequestLimitsMiddleware
from backend.test.conftest import ClientFactory
from backend.test.core.conftest import LogCapture
from backend.test.factories import Account, make_todo

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


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


class Node:
    """Something a weak reference can follow."""


def failing_app(made: list[weakref.ref[Node]]) -> RequestLimitsMiddleware:
    """Reads the body, then fails with a cycle in reach: the frame holds the error, whose
    traceback holds the frame (and the node, standing for the request's body)."""

    async def app(_scope: Scope, receive: Receive, _send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        node = Node()
        made.append(weakref.ref(node))
        error = RuntimeError("a bug")
        try:
            raise error
        except RuntimeError:
            raise error from None

    return RequestLimitsMiddleware(app, max_bytes=1024 * 1024, body_timeout=5.0)


class TestBodiesAndTheCollector:
    """Once the bodies of finished requests pass the collector's budget, cycles they left go."""

    @pytest.mark.parametrize(("budget", "freed"), [(999, True), (1000, False)])
    def test_a_failed_request_past_the_budget_leaves_nothing_behind(
        self, budget: int, freed: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # pytest keeps every log record, and the error's record its traceback; a worker's
        # log handler writes the line and lets the record go.
        monkeypatch.setattr(logging.getLogger("backend.errors"), "disabled", True)
        made: list[weakref.ref[Node]] = []
        app = RequestContextMiddleware(failing_app(made), metrics=None, headers=[], bodies=BodyCollector(budget))
        client = TestClient(app, raise_server_exceptions=False)
        gc.disable()  # only the middleware's own collection may run
        try:
            status = client.post("/", content=b"x" * 1000).status_code
            alive = made[0]() is not None
        finally:
            gc.enable()

        assert status == 500
        assert alive is not freed

    def test_bodies_add_up_to_the_budget(self) -> None:
        collector = BodyCollector(budget=100)

        collector.after(60)
        first = collector.received
        collector.after(60)

        assert (first, collector.received) == (60, 0)
