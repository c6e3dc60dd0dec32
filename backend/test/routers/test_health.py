"""GET /health, /health/live and /health/ready: the process and its database."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from backend import __version__
from backend.core.config import Settings
from backend.test.conftest import ClientFactory
from backend.test.factories import mint_token, on_request_path
from backend.test.live import free_port


def unreachable_url(settings: Settings) -> str:
    """A URL of the selected kind whose database cannot answer."""
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() == "sqlite":
        return "sqlite:////nonexistent-directory/for-sure/test.db"
    return url.set(host="127.0.0.1", port=free_port()).render_as_string(hide_password=False)


class TestHealth:
    def test_ok_when_the_database_answers(self, client: TestClient) -> None:
        response = client.get("/health")

        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "version": __version__}

    def test_needs_no_authentication(self, client: TestClient) -> None:
        response = client.get("/health", headers={"Authorization": "Bearer not-a-token"})

        assert response.status_code == 200

    def test_503_when_the_database_is_unreachable(self, client_factory: ClientFactory, settings: Settings) -> None:
        client = client_factory(DATABASE_URL=unreachable_url(settings))

        response = client.get("/health")

        assert response.status_code == 503
        body = response.json()
        assert body["database"] == "unreachable"
        assert body["status"] != "ok"
        assert body["version"] == __version__

    def test_api_answers_503_not_500_when_the_database_is_unreachable(
        self, client_factory: ClientFactory, settings: Settings
    ) -> None:
        client = client_factory(DATABASE_URL=unreachable_url(settings), raise_server_exceptions=False)

        response = client.get("/todos/", headers={"Authorization": "Bearer x.y.z"})
        listed = client.get("/todos/", headers={"Authorization": f"Bearer {mint_token(settings, 1)}"})

        assert response.status_code == 401  # an unreadable token needs no database
        assert listed.status_code == 503
        assert listed.json() == {"detail": "Database unavailable"}
        assert listed.headers["Retry-After"].isdigit()


class TestHealthLive:
    def test_ok_while_the_process_answers(self, client: TestClient) -> None:
        response = client.get("/health/live")

        assert response.status_code == 200
        assert response.json() == {"status": "ok", "version": __version__}

    def test_ok_when_the_database_is_unreachable(self, client_factory: ClientFactory, settings: Settings) -> None:
        client = client_factory(DATABASE_URL=unreachable_url(settings))

        response = client.get("/health/live")

        assert response.status_code == 200

    def test_runs_no_database_statement(self, client: TestClient) -> None:
        statements: list[str] = []

        def record(*args: object) -> None:
            if on_request_path():
                statements.append(str(args[2]))

        event.listen(Engine, "before_cursor_execute", record)
        try:
            client.get("/health/live")
            live = list(statements)
            client.get("/health/ready")
        finally:
            event.remove(Engine, "before_cursor_execute", record)

        assert live == []
        assert statements, "the readiness probe does query (so the listener works)"


class TestHealthReady:
    def test_ok_when_the_database_answers(self, client: TestClient) -> None:
        response = client.get("/health/ready")

        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "version": __version__}

    def test_503_when_the_database_is_unreachable(self, client_factory: ClientFactory, settings: Settings) -> None:
        client = client_factory(DATABASE_URL=unreachable_url(settings))

        response = client.get("/health/ready")

        assert response.status_code == 503
        assert response.json() == {"status": "degraded", "database": "unreachable", "version": __version__}

    @pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
    def test_needs_no_authentication(self, client: TestClient, path: str) -> None:
        response = client.get(path, headers={"Authorization": "Bearer not-a-token"})

        assert response.status_code == 200
