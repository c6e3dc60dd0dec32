"""OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT is set, fully off otherwise.

When on, each app gets its own tracer provider (`AppState.tracing`) exporting over
OTLP/HTTP, and these spans:

- every HTTP request and WebSocket connection, named by its route template
  (`GET /todos/todo/{todo_id}`), continuing an incoming W3C `traceparent`: FastAPI's own
  telemetry, handed this app's provider;
- every database statement, with its text and never its parameters (tracing_clients.py):
  SQLAlchemy cursor events on the app's engine (opentelemetry-instrumentation-sqlalchemy
  declares support below SQLAlchemy 2.1 only);
- every Redis command: coredis's command execution (the contrib Redis instrumentation
  covers redis-py, and the rate limiter talks to Redis through `limits` and coredis);
- job runs, scheduled triggers and event fan-out: `job_span`, `trigger_span`,
  `fanout_span` and `inject_context` (tracing_spans.py), for the code that enqueues and
  runs them.

When off, nothing is installed: no middleware, no engine listener, no Redis hook, no
exporter imported, and FastAPI's own telemetry is switched off.
"""

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from starlette.types import ASGIApp, Receive, Scope, Send

from backend import __version__
from backend.core.config import Settings
from backend.core.tracing_clients import instrument_coredis, instrument_engine
from backend.core.tracing_context import Tracing, tracing_var
from backend.database.session import Database

TRACES_PATH = "/v1/traces"


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
    if db.server is not None:  # requests on PostgreSQL / MariaDB
        instrument_engine(db.server.engine, tracing)
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
