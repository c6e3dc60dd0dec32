"""Tracing (backend/core/tracing.py) with the SDK's in-memory exporter: request, statement,
Redis, WebSocket, job, trigger and fan-out spans, their parents, an incoming traceparent,
trace ids in the JSON log lines, and nothing at all when tracing is off."""

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import coredis
import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id
from ruamel.yaml import YAML
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.logs import JsonFormatter
from backend.core.tracing import TracingContextMiddleware, build_tracing, install_tracing, shutdown_tracing
from backend.core.tracing_clients import instrument_engine, operation_of
from backend.core.tracing_context import Tracing
from backend.core.tracing_spans import fanout_span, inject_context, job_span, trigger_span
from backend.main import create_app
from backend.test.conftest import REPO_ROOT, AccountFactory, SettingsFactory
from backend.test.deploy.services import redis_db
from backend.test.factories import make_todo, state_of, todo_payload

ENDPOINT = "http://127.0.0.1:4318"  # never reached: these tests export to memory
PARENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN = "b7ad6b7169203331"
REDIS_TEST_DB = 13
COLLECTOR_CONFIG = REPO_ROOT / "deploy" / "otel" / "collector.yaml"
logger = logging.getLogger("backend.test.tracing")


@dataclass(frozen=True)
class Traced:
    """An app with tracing on, exporting to memory."""

    app: FastAPI
    tracing: Tracing
    memory: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        self.tracing.provider.force_flush()
        return list(self.memory.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        found = [span for span in self.spans() if span.name == name]
        assert len(found) == 1, f"{name!r} in {[span.name for span in self.spans()]}"
        return found[0]

    def trace_of(self, root: ReadableSpan) -> list[ReadableSpan]:
        """Every span of root's trace, root first."""
        assert root.context is not None
        spans = [span for span in self.spans() if span.context and span.context.trace_id == root.context.trace_id]
        return sorted(spans, key=lambda span: span is not root)


def make_traced(settings: Settings) -> Iterator[Traced]:
    """create_app(settings), then tracing installed on it as create_app would with an endpoint
    set, but exporting to memory (the OTLP path is the live test's)."""
    app = create_app(settings)
    memory = InMemorySpanExporter()
    traced_settings = settings.model_copy(update={"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT})
    tracing = build_tracing(traced_settings, exporter=memory)
    assert tracing is not None
    install_tracing(app, tracing, traced_settings, state_of(app).db)
    yield Traced(app, tracing, memory)
    tracing.shutdown()
    state_of(app).db.dispose()  # also when no TestClient ran the lifespan


@pytest.fixture
def traced(settings: Settings) -> Iterator[Traced]:
    yield from make_traced(settings)


@pytest.fixture
def client(traced: Traced) -> Iterator[TestClient]:
    with TestClient(traced.app) as client:
        yield client


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines the `backend` loggers write from now on."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    backend_logger = logging.getLogger("backend")
    backend_logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    backend_logger.removeHandler(handler)


def ids(span: ReadableSpan) -> tuple[str, str]:
    assert span.context is not None
    return format_trace_id(span.context.trace_id), format_span_id(span.context.span_id)


def parent_id(span: ReadableSpan) -> str | None:
    return format_span_id(span.parent.span_id) if span.parent else None


def request_span(traced: Traced, name: str) -> tuple[ReadableSpan, list[ReadableSpan]]:
    """The server span named `name`, and every span of its trace."""
    server = traced.named(name)
    assert server.kind == SpanKind.SERVER
    return server, traced.trace_of(server)


class TestRequestSpans:
    def test_named_by_route_template(self, traced: Traced, client: TestClient, account_factory: AccountFactory) -> None:
        user = account_factory()

        response = client.put("/todos/todo/12345", json=todo_payload(), headers=user.headers)

        assert response.status_code == 404
        server = traced.named("PUT /todos/todo/{todo_id}")
        assert server.attributes is not None
        assert server.attributes["http.route"] == "/todos/todo/{todo_id}"
        assert server.attributes["http.response.status_code"] == 404
        assert server.parent is None

    def test_every_span_of_a_request_descends_from_its_server_span(
        self, traced: Traced, client: TestClient, account_factory: AccountFactory, db_session: Session
    ) -> None:
        user = account_factory()
        todo = make_todo(db_session, user.id)

        response = client.put(f"/todos/todo/{todo['id']}", json=todo_payload(), headers=user.headers)

        assert response.status_code == 200
        server, spans = request_span(traced, "PUT /todos/todo/{todo_id}")
        by_id = {ids(span)[1]: span for span in spans}
        for span in spans[1:]:
            ancestor: ReadableSpan | None = span
            while ancestor is not None and ancestor is not server:
                parent = parent_id(ancestor)
                ancestor = by_id.get(parent) if parent else None
            assert ancestor is server, f"{span.name} does not descend from {server.name}"
        statements = [span for span in spans if span.attributes and "db.query.text" in span.attributes]
        assert len(statements) >= 2, "the ownership read and the update"

    def test_an_incoming_traceparent_is_continued(self, traced: Traced, client: TestClient) -> None:
        client.get("/health", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"})

        server = traced.named("GET /health")
        assert ids(server)[0] == PARENT_TRACE
        assert parent_id(server) == PARENT_SPAN
        assert server.parent is not None and server.parent.is_remote

    def test_a_malformed_traceparent_starts_a_new_trace(self, traced: Traced, client: TestClient) -> None:
        client.get("/health", headers={"traceparent": "00-not-a-trace-01"})

        server = traced.named("GET /health")
        assert server.parent is None
        assert ids(server)[0] != PARENT_TRACE


class TestStatementSpans:
    def test_carry_the_statement_and_never_its_parameters(
        self, traced: Traced, client: TestClient, account_factory: AccountFactory
    ) -> None:
        user = account_factory()
        secret = "tracing-secret-title-7f3a"

        response = client.post("/todos/todos", json=todo_payload(title=secret), headers=user.headers)

        assert response.status_code == 201
        _, spans = request_span(traced, "POST /todos/todos")
        inserts = [span for span in spans if span.attributes and span.attributes.get("db.operation.name") == "INSERT"]
        assert inserts, [span.name for span in spans]
        insert = inserts[0]
        assert insert.attributes is not None
        assert insert.kind == SpanKind.CLIENT
        assert "INSERT INTO todos" in str(insert.attributes["db.query.text"])
        assert insert.attributes["db.system.name"] == state_of(traced.app).db.engine.dialect.name.replace(
            "mysql", "mariadb"
        )
        every_value = [str(value) for span in traced.spans() for value in (span.attributes or {}).values()]
        assert not [value for value in every_value if secret in value]

    @pytest.mark.parametrize(
        ("statement", "operation"),
        [
            ("select 1", "SELECT"),
            ("  UPDATE todos SET title = ?", "UPDATE"),
            ("WITH counted AS (UPDATE c SET n = (n + 1) WHERE id = ? RETURNING id) INSERT INTO t SELECT 1", "INSERT"),
            ("WITH a AS (SELECT (1)), b AS (SELECT 2) SELECT * FROM a, b", "SELECT"),
            ("", "SQL"),
        ],
    )
    def test_are_named_by_their_operation_after_any_with(self, statement: str, operation: str) -> None:
        assert operation_of(statement) == operation

    def test_a_failing_statement_ends_its_span_as_an_error(self, traced: Traced) -> None:
        with state_of(traced.app).db.engine.connect() as conn, pytest.raises((OperationalError, ProgrammingError)):
            conn.exec_driver_sql("SELECT * FROM no_such_table")

        [failed] = [span for span in traced.spans() if span.status.status_code == StatusCode.ERROR]
        assert failed.attributes is not None
        assert failed.attributes["db.query.text"] == "SELECT * FROM no_such_table"
        assert "error.type" in failed.attributes
        assert failed.status.description is None  # a driver's message may quote values
        assert not failed.events

    def test_statements_in_a_worker_thread_keep_their_parent(self, traced: Traced) -> None:
        # The PostgreSQL/MariaDB path runs each unit of work in a worker thread.
        def query() -> None:
            with state_of(traced.app).db.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

        async def in_thread() -> None:
            with traced.tracing.tracer.start_as_current_span("unit of work"):
                await anyio.to_thread.run_sync(query)

        anyio.run(in_thread)

        parent = traced.named("unit of work")
        statements = [span for span in traced.spans() if span.name.startswith("SELECT")]
        assert [parent_id(span) for span in statements] == [ids(parent)[1]]

    def test_an_async_engine_is_instrumented_through_its_sync_engine(self, traced: Traced) -> None:
        engine = create_async_engine("postgresql+psycopg://user@127.0.0.1:1/none")  # never connects

        instrument_engine(engine, traced.tracing)

        assert engine.sync_engine.dispatch.before_cursor_execute
        assert engine.sync_engine.dispatch.after_cursor_execute


class TestRedisSpans:
    """Against the real Redis (TEST_REDIS_URL, default 127.0.0.1:6379), as the app's limiter uses it."""

    @pytest.fixture
    def redis_traced(self, settings: Settings) -> Iterator[Traced]:
        yield from make_traced(settings.model_copy(update={"REDIS_URL": redis_db(REDIS_TEST_DB)}))

    def test_the_rate_limiters_commands_are_children_of_the_request(self, redis_traced: Traced) -> None:
        with TestClient(redis_traced.app) as client:
            response = client.post("/auth/token", data={"username": "nobody-here", "password": "wrong-password-1"})

        assert response.status_code == 401
        _, spans = request_span(redis_traced, "POST /auth/token")
        commands = [span for span in spans if span.attributes and span.attributes.get("db.system.name") == "redis"]
        assert commands, [span.name for span in spans]
        by_id = {ids(span)[1] for span in spans}
        for command in commands:
            assert command.kind == SpanKind.CLIENT
            assert parent_id(command) in by_id
            assert command.attributes is not None
            assert command.attributes["db.namespace"] == str(REDIS_TEST_DB)
            assert "nobody-here" not in json.dumps(dict(command.attributes))

    def test_commands_outside_a_traced_request_make_no_span(self, redis_traced: Traced) -> None:
        url = state_of(redis_traced.app).settings.REDIS_URL
        assert url is not None

        async def ping() -> bool:
            client: coredis.Redis[bytes] = coredis.Redis.from_url(url)
            try:
                return bool(await client.ping())
            finally:
                client.connection_pool.disconnect()

        assert anyio.run(ping)  # through the hooked coredis, from no request at all

        assert not [span for span in redis_traced.spans() if span.attributes and "db.system.name" in span.attributes]

    def test_a_failing_command_is_an_error_without_its_message(self, redis_traced: Traced) -> None:
        url = state_of(redis_traced.app).settings.REDIS_URL
        assert url is not None

        async def misuse() -> None:
            client: coredis.Redis[bytes] = coredis.Redis.from_url(url)
            try:
                await client.set("tracing-test-key", "not a number")
                await client.incr("tracing-test-key")
            finally:
                client.connection_pool.disconnect()

        with (
            redis_traced.tracing.active(),
            redis_traced.tracing.tracer.start_as_current_span("job"),
            pytest.raises(coredis.exceptions.ResponseError),
        ):
            anyio.run(misuse)

        incr = redis_traced.named("INCR")
        assert incr.status.status_code == StatusCode.ERROR and incr.status.description is None
        assert incr.attributes is not None and incr.attributes["error.type"] == "ResponseError"
        assert redis_traced.named("SET").status.status_code == StatusCode.UNSET


class TestWebSockets:
    def test_a_connection_and_its_fanout_are_spans(self, traced: Traced) -> None:
        async def echo(websocket: WebSocket, room: str) -> None:
            await websocket.accept()
            text = await websocket.receive_text()
            with fanout_span(traced.tracing, "message.posted", subscribers=1):
                await websocket.send_text(f"{room}:{text}")
            await websocket.close()

        traced.app.add_api_websocket_route("/test-ws/{room}", echo)
        with TestClient(traced.app) as client, client.websocket_connect("/test-ws/lobby") as websocket:
            websocket.send_text("hi")
            assert websocket.receive_text() == "lobby:hi"

        connection = traced.named("WS /test-ws/{room}")
        fanout = traced.named("fanout message.posted")
        assert ids(fanout)[0] == ids(connection)[0]
        assert fanout.kind == SpanKind.PRODUCER
        assert fanout.attributes is not None and fanout.attributes["event.subscribers"] == 1


class TestJobsAndTriggers:
    def test_a_job_run_is_a_child_of_the_request_that_enqueued_it(self, traced: Traced, client: TestClient) -> None:
        enqueued: list[dict[str, str]] = []

        async def enqueue() -> dict[str, bool]:
            enqueued.append(inject_context())
            return {"queued": True}

        traced.app.add_api_route("/test-enqueue", enqueue, methods=["POST"])
        client.post("/test-enqueue")
        with job_span(traced.tracing, "send_reminder", enqueued[0]) as span:
            assert span.is_recording()

        server, spans = request_span(traced, "POST /test-enqueue")
        job = traced.named("job send_reminder")
        assert job.kind == SpanKind.CONSUMER
        assert ids(job)[0] == ids(server)[0]
        assert parent_id(job) in {ids(span)[1] for span in spans}

    def test_a_trigger_starts_its_own_trace_linked_to_the_request(self, traced: Traced) -> None:
        with traced.tracing.tracer.start_as_current_span("request"):
            scheduled_by = inject_context()
            with trigger_span(traced.tracing, "nightly_cleanup", scheduled_by):
                job_carrier = inject_context()
        with job_span(traced.tracing, "cleanup", job_carrier):
            pass

        request, trigger, job = (traced.named(n) for n in ("request", "trigger nightly_cleanup", "job cleanup"))
        assert trigger.parent is None
        assert ids(trigger)[0] != ids(request)[0]
        assert [ids_of_link(link) for link in trigger.links] == [ids(request)]
        assert parent_id(job) == ids(trigger)[1]

    def test_the_helpers_cost_nothing_when_tracing_is_off(self) -> None:
        carrier = inject_context()
        with job_span(None, "j", carrier) as job, trigger_span(None, "t") as trigger, fanout_span(None, "e", 0) as fan:
            assert not (job.is_recording() or trigger.is_recording() or fan.is_recording())
        assert carrier == {}


def ids_of_link(link: Any) -> tuple[str, str]:
    return format_trace_id(link.context.trace_id), format_span_id(link.context.span_id)


class TestLogCorrelation:
    def test_lines_inside_a_span_carry_its_trace_and_span_ids(
        self, traced: Traced, client: TestClient, log_lines: Callable[[], list[dict[str, Any]]]
    ) -> None:
        client.get("/health", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01", "X-Request-ID": "r-1"})
        with job_span(traced.tracing, "log_something", {}):
            logger.warning("inside a job")
        logger.warning("outside any span")

        server = traced.named("GET /health")
        job = traced.named("job log_something")
        lines = {line["message"]: line for line in log_lines()}
        access = next(line for line in log_lines() if line.get("request_id") == "r-1")
        assert (access["trace_id"], access["span_id"]) == ids(server)
        assert (lines["inside a job"]["trace_id"], lines["inside a job"]["span_id"]) == ids(job)
        assert "trace_id" not in lines["outside any span"]

    def test_an_app_without_tracing_writes_no_trace_ids(
        self, traced: Traced, settings: Settings, log_lines: Callable[[], list[dict[str, Any]]]
    ) -> None:
        del traced  # another app in this process has tracing on
        with TestClient(create_app(settings)) as client:
            client.get("/health", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01", "X-Request-ID": "r-2"})

        access = next(line for line in log_lines() if line.get("request_id") == "r-2")
        assert "trace_id" not in access and "span_id" not in access


def middleware_classes(app: FastAPI) -> list[object]:
    return [middleware.cls for middleware in app.user_middleware]


class TestOffByDefault:
    def test_nothing_is_installed(self, settings_factory: SettingsFactory) -> None:
        settings = settings_factory()
        assert settings.OTEL_EXPORTER_OTLP_ENDPOINT is None

        app = create_app(settings)

        state = state_of(app)
        assert state.tracing is None
        assert TracingContextMiddleware not in middleware_classes(app)
        engine = state.db.engine
        assert not engine.dispatch.before_cursor_execute
        assert not engine.dispatch.after_cursor_execute
        assert not engine.dialect.dispatch.handle_error
        assert app._telemetry["tracing"] is False
        with TestClient(app) as client:
            assert client.get("/health").status_code == 200
        shutdown_tracing(state.tracing)  # nothing to do

    def test_on_with_an_endpoint(self, settings_factory: SettingsFactory, monkeypatch: pytest.MonkeyPatch) -> None:
        app = create_app(settings_factory(OTEL_EXPORTER_OTLP_ENDPOINT=ENDPOINT, OTEL_SERVICE_NAME="todo-test"))
        state = state_of(app)
        tracing = state.tracing
        assert tracing is not None
        shutdown = tracing.provider.shutdown
        calls: list[str] = []

        def counted_shutdown() -> None:
            calls.append("shutdown")
            shutdown()

        monkeypatch.setattr(tracing.provider, "shutdown", counted_shutdown)
        try:
            assert tracing.provider.resource.attributes["service.name"] == "todo-test"
            assert TracingContextMiddleware in middleware_classes(app)
            assert state.db.engine.dispatch.before_cursor_execute
            assert app._telemetry["tracer_provider"] is tracing.provider
            assert app._telemetry["operation_spans"] is False
        finally:
            shutdown_tracing(tracing)
            state.db.dispose()
        assert calls == ["shutdown"]

    def test_a_process_without_tracing_patches_and_imports_nothing(self, settings: Settings) -> None:
        # Process-wide: coredis untouched, the exporter (requests, protobuf) never imported.
        script = (
            "import sys, coredis\n"
            "from backend.main import create_app\n"
            "from backend.core.config import Settings\n"
            f"app = create_app(Settings(_env_file=None, DATABASE_URL={settings.DATABASE_URL!r},"
            f" SECRET_KEY={settings.secret_key!r}, REDIS_URL='redis://127.0.0.1:1/0'))\n"
            "from starlette.requests import HTTPConnection\n"
            "from backend.core.state import app_state\n"
            "assert app_state(HTTPConnection({'type': 'http', 'app': app})).tracing is None\n"
            "assert not hasattr(coredis.Redis.execute_command, '__wrapped__')\n"
            "assert 'opentelemetry.exporter.otlp.proto.http' not in sys.modules\n"
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr[-3000:]


def test_a_second_engine_gets_its_own_listeners(traced: Traced) -> None:
    engine = create_engine("sqlite://")

    instrument_engine(engine, traced.tracing)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 42")
    engine.dispose()

    texts = [span.attributes.get("db.query.text") for span in traced.spans() if span.attributes]
    assert texts == ["SELECT 42"]


class TestCollectorConfig:
    """deploy/otel/collector.yaml (no collector binary here: its shape, and what the docs promise)."""

    def test_every_component_a_pipeline_names_is_defined(self) -> None:
        config = YAML(typ="safe").load(COLLECTOR_CONFIG)

        service = config["service"]
        assert set(service["extensions"]) <= set(config["extensions"])
        for pipeline in service["pipelines"].values():
            for kind in ("receivers", "processors", "exporters"):
                assert set(pipeline[kind]) <= set(config[kind]), kind
        assert pipeline["processors"][0] == "memory_limiter"

    def test_it_takes_otlp_http_and_signs_its_export_to_xray(self) -> None:
        config = YAML(typ="safe").load(COLLECTOR_CONFIG)

        assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
        [exporter] = config["service"]["pipelines"]["traces"]["exporters"]
        settings = config["exporters"][exporter]
        assert settings["traces_endpoint"] == "https://xray.${env:AWS_REGION}.amazonaws.com/v1/traces"
        assert settings["auth"]["authenticator"] == "sigv4auth"
        assert config["extensions"]["sigv4auth"]["service"] == "xray"
