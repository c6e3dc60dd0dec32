"""The health endpoint of the worker and scheduler processes: a tiny HTTP server on a thread.

- `GET /health`: 200 `{"status": "ok"}` while the process's check passes (the worker's
  threads are running; the scheduler's last tick reached the database recently), 503
  `{"status": "unhealthy"}` otherwise. Kubernetes probes it with `httpGet`; Compose with
  `python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:PORT/health')"`.
- `GET /metrics`: the process's Prometheus metrics (the worker's job counters).
"""

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# Probes come to the pod's or the container's own address, not to loopback.
ALL_INTERFACES = "0.0.0.0"  # nosec B104


class HealthServer:
    """Serves /health and /metrics until `stop()`."""

    def __init__(self, host: str, port: int, check: Callable[[], bool], registry: CollectorRegistry) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path == "/health":
                    ok = outer.check()
                    body = b'{"status": "ok"}' if ok else b'{"status": "unhealthy"}'
                    self._answer(200 if ok else 503, body, "application/json")
                elif self.path == "/metrics":
                    self._answer(200, generate_latest(outer.registry), CONTENT_TYPE_LATEST)
                else:
                    self._answer(404, b'{"detail": "Not Found"}', "application/json")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
                """Probes every few seconds are not worth a log line."""

        self.check = check
        self.registry = registry
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name="health", daemon=True)

    def start(self) -> "HealthServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
