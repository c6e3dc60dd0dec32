"""Prometheus metrics (core/metrics.py)."""

import struct
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.orm import Session

from backend.core.metrics import WorkerFilesCollector
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


class TestWorkerFiles:
    """Several workers (PROMETHEUS_MULTIPROC_DIR): a worker's file exists, empty, before it is sized."""

    @pytest.fixture
    def files(self, tmp_path: Path) -> Path:
        recorded = MmapedDict(str(tmp_path / "counter_101.db"))  # type: ignore[no-untyped-call]
        key = mmap_key("http_requests_total", "http_requests_total", ["route"], ["/health"], "Requests")
        recorded.write_value(key, 7.0, 0.0)  # type: ignore[no-untyped-call]
        recorded.close()  # type: ignore[no-untyped-call]
        (tmp_path / "counter_102.db").touch()  # a worker between creating and sizing its file
        return tmp_path

    def test_a_file_not_yet_sized_is_left_out_of_the_sum(self, files: Path) -> None:
        registry = CollectorRegistry()
        WorkerFilesCollector(registry, path=str(files))

        assert 'http_requests_total{route="/health"} 7.0' in generate_latest(registry).decode()

    def test_prometheus_client_alone_fails_on_it(self, files: Path) -> None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(files))  # type: ignore[no-untyped-call]

        with pytest.raises(struct.error):  # prometheus/client_python#1199: drop the subclass once fixed
            generate_latest(registry)
