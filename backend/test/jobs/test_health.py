"""The worker's and scheduler's probe: /health follows the check, /metrics shows the registry."""

import httpx
from prometheus_client import CollectorRegistry

from backend.jobs.events import JobMetrics
from backend.jobs.health import HealthServer
from backend.test.live import HOST


class TestHealthServer:
    def test_health_follows_the_check_and_metrics_show_the_job_counters(self) -> None:
        state = {"ok": True}
        registry = CollectorRegistry()
        JobMetrics(registry).done.labels("nightly_cleanup").inc()
        server = HealthServer(HOST, 0, lambda: state["ok"], registry).start()
        url = f"http://{HOST}:{server.port}"
        try:
            healthy = httpx.get(f"{url}/health")
            state["ok"] = False
            unhealthy = httpx.get(f"{url}/health")
            metrics = httpx.get(f"{url}/metrics")
            missing = httpx.get(f"{url}/other")
        finally:
            server.stop()

        assert (healthy.status_code, healthy.json()) == (200, {"status": "ok"})
        assert (unhealthy.status_code, unhealthy.json()) == (503, {"status": "unhealthy"})
        assert 'jobs_done_total{job="nightly_cleanup"} 1.0' in metrics.text
        assert missing.status_code == 404
