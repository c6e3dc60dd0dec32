"""Traces from a real `uvicorn backend.main:app`, exported over OTLP/HTTP (protobuf) to a
small receiver on loopback: a request's spans, their parents, the continued `traceparent`
and the JSON log line that carries the same ids."""

import gzip
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.test.conftest import AccountFactory, live_env
from backend.test.factories import make_todo, todo_payload
from backend.test.live import HOST, LiveServer, wait_until

TIMEOUT = 30.0
PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
ROUTE_SPAN = "PUT /todos/todo/{todo_id}"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    attributes: dict[str, Any]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


class OtlpReceiver:
    """An OTLP/HTTP trace receiver: decodes each ExportTraceServiceRequest POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(404)
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.add(request)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}"

    def add(self, request: ExportTraceServiceRequest) -> None:
        spans = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        ReceivedSpan(
                            service=resource.get("service.name", ""),
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex() or None,
                            name=span.name,
                            attributes={kv.key: _value(kv.value) for kv in span.attributes},
                        )
                    )
        with self.changed:
            self.spans.extend(spans)
            self.changed.notify_all()

    def wait_for(self, check: Callable[[list[ReceivedSpan]], bool], what: str) -> list[ReceivedSpan]:
        """The spans received so far, once `check` holds for them."""
        with self.changed:
            if not self.changed.wait_for(lambda: check(self.spans), timeout=TIMEOUT):
                pytest.fail(f"no {what} within {TIMEOUT}s; received {[s.name for s in self.spans]}")
            return list(self.spans)

    def __enter__(self) -> "OtlpReceiver":
        threading.Thread(target=self.server.serve_forever, name="otlp-receiver", daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def traced_server(
    settings: Settings, receiver: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app in uvicorn with OTEL_EXPORTER_OTLP_ENDPOINT pointing at the receiver."""
    env = live_env(
        settings,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",  # each JSON line reaches the log file as it is written
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="todo-live-test",
        OTEL_BSP_SCHEDULE_DELAY="50",  # the SDK's batch delay, in ms (default 5 s)
    )
    log_path = tmp_path_factory.mktemp("traced") / "server.log"
    args = ["--log-level", "warning", "--no-access-log"]
    with LiveServer.uvicorn(env=env, log_path=log_path, args=args, startup_timeout=60) as server:
        yield server


def _log_line(server: LiveServer, request_id: str) -> dict[str, Any] | None:
    for line in server.output().splitlines():
        if line.startswith("{") and f'"request_id":"{request_id}"' in line:
            entry: dict[str, Any] = json.loads(line)
            if entry.get("logger") == "backend.access":
                return entry
    return None


def test_a_request_exports_its_spans_continuing_the_callers_trace(
    traced_server: LiveServer, receiver: OtlpReceiver, account_factory: AccountFactory, db_session: Session
) -> None:
    user = account_factory()
    todo = make_todo(db_session, user.id)
    secret = "live-tracing-secret-19c4"
    headers = {**user.headers, "traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01", "X-Request-ID": "live-trace-1"}

    response = httpx.put(
        f"{traced_server.url}/todos/todo/{todo['id']}",
        json=todo_payload(title=secret),
        headers=headers,
        timeout=TIMEOUT,
    )

    assert response.status_code == 200, traced_server.tail()
    received = receiver.wait_for(
        lambda spans: any(s.name == ROUTE_SPAN and s.trace_id == PARENT_TRACE for s in spans),
        what=f"{ROUTE_SPAN} span in trace {PARENT_TRACE}",
    )
    trace = [span for span in received if span.trace_id == PARENT_TRACE]
    [server_span] = [span for span in trace if span.name == ROUTE_SPAN]
    assert server_span.parent_id == PARENT_SPAN
    assert server_span.service == "todo-live-test"
    assert server_span.attributes["http.route"] == "/todos/todo/{todo_id}"
    assert server_span.attributes["http.response.status_code"] == 200

    by_id = {span.span_id: span for span in trace}
    for span in trace:
        ancestor: ReceivedSpan | None = span
        while ancestor is not None and ancestor is not server_span:
            ancestor = by_id.get(ancestor.parent_id or "")
        assert ancestor is server_span, f"{span.name} does not descend from {ROUTE_SPAN}"
    statements = [str(span.attributes.get("db.query.text", "")) for span in trace]
    assert any(text.startswith("UPDATE todos") for text in statements), statements
    assert not [span for span in trace if secret in json.dumps(span.attributes)]

    line = wait_until(lambda: _log_line(traced_server, "live-trace-1"), timeout=TIMEOUT, what="the access log line")
    assert (line["trace_id"], line["span_id"]) == (PARENT_TRACE, server_span.span_id)
