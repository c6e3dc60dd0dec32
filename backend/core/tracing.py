"""OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT is set, fully off otherwise.

When on, each app gets its own tracer provider (`AppState.tracing`) exporting over
OTLP/HTTP, and these spans:

- every HTTP request and WebSocket connection, named by its route template
  (`GET /todos/todo/{todo_id}`), continuing an incoming W3C `traceparent`: FastAPI's own
  telemetry, handed this app's provider;
- every database statement, with its text and never its parameters: SQLAlchemy cursor
  events on the app's engine (opentelemetry-instrumentation-sqlalchemy declares support
  below SQLAlchemy 2.1 only);
- every Redis command: coredis's command execution (the contrib Redis instrumentation
  covers redis-py, and the rate limiter talks to Redis through `limits` and coredis);
- job runs, scheduled triggers and event fan-out: `job_span`, `trigger_span`,
  `fanout_span` and `inject_context`, for the code that enqueues and runs them.

When off, nothing is installed: no middleware, no engine listener, no Redis hook, no
exporter imported, and FastAPI's own telemetry is switched off.
"""

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind, Status, StatusCode, Tracer, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from backend import __version__
from backend.core.config import Settings
from backend.database.session import Database

TRACES_PATH = "/v1/traces"
_SPAN_INFO_KEY = "backend.tracing.span"
_TRACED_MARK = "_backend_traced"
_COREDIS_EXECUTE = "execute_command"
# W3C Trace Context only, whatever the process-wide propagator says: it is what
# `traceparent` means, and the carriers we write are read back by this module.
_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass(frozen=True, slots=True)
class Tracing:
    """One app's tracer provider and tracer."""

    provider: TracerProvider
    tracer: Tracer

    def shutdown(self) -> None:
        """Export what is still queued and stop the exporter's thread."""
        self.provider.shutdown()

    @contextmanager
    def active(self) -> Iterator[None]:
        """Mark the code run inside as traced by this app (Redis hook, log correlation)."""
        token = tracing_var.set(self)
        try:
            yield
        finally:
            tracing_var.reset(token)


# The Tracing of the app serving the current request or job, None elsewhere. Redis calls
# and JSON log lines look here (one ContextVar read) before touching OpenTelemetry, so an
# app without tracing pays nothing even after another app in the process turned it on.
tracing_var: ContextVar[Tracing | None] = ContextVar("tracing", default=None)


def build_tracing(settings: Settings, exporter: SpanExporter | None = None) -> Tracing | None:
    """A provider exporting to OTEL_EXPORTER_OTLP_ENDPOINT (or to `exporter`), or None when off."""
    if not settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        return None
    if exporter is None:
        # Imported only when on: the exporter brings requests and protobuf with it.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + TRACES_PATH)
    resource = Resource.create(
        {
            "service.name": settings.OTEL_SERVICE_NAME,
            "service.version": __version__,
            "deployment.environment.name": settings.ENVIRONMENT,
        }
    )
    # shutdown_on_exit=False: an atexit hook would keep every test app's provider alive;
    # the app's lifespan shuts it down instead (shutdown_tracing).
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(provider, provider.get_tracer("backend", __version__))


def install_tracing(app: FastAPI, tracing: Tracing | None, settings: Settings, db: Database) -> None:
    """Instrument the app, its database and Redis calls when tracing is on (`tracing` given)."""
    _configure_fastapi_telemetry(app, tracing)
    if tracing is None:
        return
    app.add_middleware(TracingContextMiddleware, tracing=tracing)
    instrument_engine(db.engine, tracing)
    if settings.REDIS_URL:
        instrument_coredis()


def shutdown_tracing(tracing: Tracing | None) -> None:
    """Flush and stop the app's exporter, if tracing is on (call at the end of the lifespan)."""
    if tracing is not None:
        tracing.shutdown()


def _configure_fastapi_telemetry(app: FastAPI, tracing: Tracing | None) -> None:
    # FastAPI (0.165) traces requests and WebSocket connections itself, named by route
    # template, but takes its settings only in its constructor, and create_app builds the
    # app before this seam runs: update the dict its NativeTelemetry reads. On: our
    # provider, never the process-wide one, and no spans for FastAPI's own steps (solving
    # dependencies, calling the endpoint, serializing): each is one more span per request,
    # and statements under the request span already show where its time went. Off: every
    # signal off, which also spares each request FastAPI's look-up of the process-wide
    # providers, and no exporter comes from FASTAPI_OTEL_AUTO_CONFIGURE. Metrics stay with
    # Prometheus and logs with our JSON lines either way.
    config: TelemetryConfig = {
        "tracer_provider": tracing.provider if tracing else None,
        "tracing": tracing is not None,
        "operation_spans": False,
        "metrics": False,
        "logs": False,
        "auto_configure": False,
    }
    app._telemetry.update(config)


class TracingContextMiddleware:
    """Marks each request and WebSocket connection as traced by this app (see tracing_var)."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = tracing_var.set(self.tracing)
        try:
            await self.app(scope, receive, send)
        finally:
            tracing_var.reset(token)


# --- database statements --------------------------------------------------------------------


def instrument_engine(engine: Engine | AsyncEngine, tracing: Tracing) -> None:
    """A client span per statement run on `engine` (an AsyncEngine's sync engine works too)."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    url = sync_engine.url
    dialect = sync_engine.dialect
    base: dict[str, str | int] = {}
    if dialect.name != "sqlite":  # a file path, not a database name
        if url.database:
            base["db.namespace"] = url.database
        if url.host:
            base["server.address"] = url.host
        if url.port:
            base["server.port"] = url.port
    tracer = tracing.tracer

    def before_cursor_execute(
        conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
    ) -> None:
        # The statement text only: its parameters (titles, emails, hashes) stay out.
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        # MariaDB is told apart from MySQL only once connected.
        system = "mariadb" if getattr(dialect, "is_mariadb", False) else dialect.name
        attributes = {**base, "db.system.name": system, "db.query.text": statement, "db.operation.name": operation}
        if executemany:
            attributes["db.operation.batch.size"] = len(parameters)
        name = f"{operation} {base['db.namespace']}" if "db.namespace" in base else operation
        info = conn.info
        stale = info.pop(_SPAN_INFO_KEY, None)
        if stale is not None:  # a statement that ended without either event below
            stale.end()
        info[_SPAN_INFO_KEY] = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def after_cursor_execute(conn: Any, *_args: Any) -> None:
        span = conn.info.pop(_SPAN_INFO_KEY, None)
        if span is not None:
            span.end()

    def handle_error(context: ExceptionContext) -> None:
        conn = context.connection
        span = conn.info.pop(_SPAN_INFO_KEY, None) if conn is not None else None
        if span is not None:
            _failed(span, context.original_exception)
            span.end()

    # One statement at a time runs on a connection, so the connection's info dict holds
    # the open span (the execution context is None for some of the dialect's own statements).
    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    event.listen(sync_engine, "handle_error", handle_error)


def _failed(span: Span, error: BaseException) -> None:
    # The error's type only: a driver's message can quote the values it was given
    # (PostgreSQL's "Key (email)=(…) already exists").
    span.set_attribute("error.type", type(error).__qualname__)
    span.set_status(Status(StatusCode.ERROR))


# --- Redis commands -------------------------------------------------------------------------


def instrument_coredis() -> None:
    """Trace coredis commands run while a traced app serves a request or job (once per process).

    The rate limiter reaches Redis through `limits`, which makes its own coredis client, so
    the hook is coredis's command execution: every command, Lua scripts included, passes
    through `execute_command` (retries included, so one span per command). Elsewhere the
    wrapper is a pass-through after one ContextVar read.
    """
    import coredis

    for cls in (coredis.Redis, coredis.RedisCluster):
        execute = cls.__dict__[_COREDIS_EXECUTE]
        if not getattr(execute, _TRACED_MARK, False):
            setattr(cls, _COREDIS_EXECUTE, _traced_command(execute))


def _traced_command(execute: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(execute)
    async def execute_command(client: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        tracing = tracing_var.get()
        if tracing is None:
            return await execute(client, command, *args, **kwargs)
        name = bytes(command.name).decode("ascii", "replace").upper()
        with tracing.tracer.start_as_current_span(
            name,
            kind=SpanKind.CLIENT,
            attributes=_redis_attributes(client, name),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await execute(client, command, *args, **kwargs)
            except BaseException as exc:
                _failed(span, exc)
                raise

    setattr(execute_command, _TRACED_MARK, True)
    return execute_command


def _redis_attributes(client: Any, name: str) -> dict[str, str | int]:
    # The command's name only: its arguments hold keys made of client IPs and usernames.
    attributes: dict[str, str | int] = {"db.system.name": "redis", "db.operation.name": name}
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None) or {}
    if kwargs.get("host"):
        attributes["server.address"] = str(kwargs["host"])
    if kwargs.get("port"):
        attributes["server.port"] = int(kwargs["port"])
    if kwargs.get("db") is not None:
        attributes["db.namespace"] = str(kwargs["db"])
    return attributes


# --- jobs, schedules, events ----------------------------------------------------------------


def inject_context(carrier: dict[str, str] | None = None) -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`), to store with a job or event."""
    carrier = {} if carrier is None else carrier
    _PROPAGATOR.inject(carrier)
    return carrier


@contextmanager
def job_span(tracing: Tracing | None, job: str, carrier: Mapping[str, str]) -> Iterator[Span]:
    """A span around one run of `job`, a child of the request (or trigger) that enqueued it.

    `carrier` is what `inject_context()` returned when the job was enqueued.
    """
    if tracing is None:
        yield INVALID_SPAN
        return
    parent = _PROPAGATOR.extract(carrier)
    with (
        tracing.active(),
        tracing.tracer.start_as_current_span(
            f"job {job}", context=parent, kind=SpanKind.CONSUMER, attributes={"job.name": job}
        ) as span,
    ):
        yield span


@contextmanager
def trigger_span(tracing: Tracing | None, schedule: str, carrier: Mapping[str, str] | None = None) -> Iterator[Span]:
    """A span for one firing of `schedule`: a trace of its own, linked to the request that set it up.

    A schedule fires long after (or without) a request, so it starts a new trace; when a
    request scheduled it, pass the carrier it stored and the trigger links back to it. Jobs
    the trigger enqueues carry its context (`inject_context()` inside this block).
    """
    if tracing is None:
        yield INVALID_SPAN
        return
    links = []
    if carrier:
        origin = get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
        if origin.is_valid:
            links.append(Link(origin))
    with (
        tracing.active(),
        tracing.tracer.start_as_current_span(
            f"trigger {schedule}",
            context=Context(),
            kind=SpanKind.PRODUCER,
            links=links,
            attributes={"schedule.name": schedule},
        ) as span,
    ):
        yield span


@contextmanager
def fanout_span(tracing: Tracing | None, event_name: str, subscribers: int) -> Iterator[Span]:
    """A span around delivering one event to its subscribers (WebSocket connections, queues)."""
    if tracing is None:
        yield INVALID_SPAN
        return
    with (
        tracing.active(),
        tracing.tracer.start_as_current_span(
            f"fanout {event_name}",
            kind=SpanKind.PRODUCER,
            attributes={"event.name": event_name, "event.subscribers": subscribers},
        ) as span,
    ):
        yield span
