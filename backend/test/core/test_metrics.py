"""Prometheus metrics (core/metrics.py)."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.test.conftest import ClientFactory
from backend.test.factories import Account, make_todo, todo_payload


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
