"""A loopback OTLP/HTTP receiver for the traced row: it accepts every export and counts it.

The traced app sends its spans here exactly as it would to a collector (protobuf over
HTTP, in batches, from the exporter's own thread). Nothing is decoded: the row measures
what tracing costs the app, not what a collector does with the spans. The counts show
that the row really ran with tracing on.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from backend.scripts.bench.common import HOST


class OtlpSink:
    """Serves on a free loopback port from `start()` until `stop()`."""

    def __init__(self) -> None:
        self.exports = 0
        self.bytes = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(size)
                sink.count(size)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-sink", daemon=True)

    @property
    def endpoint(self) -> str:
        """The value of OTEL_EXPORTER_OTLP_ENDPOINT for an app that sends here."""
        return f"http://{HOST}:{self._server.server_address[1]}"

    def count(self, size: int) -> None:
        with self._lock:
            self.exports += 1
            self.bytes += size

    def start(self) -> OtlpSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
