"""Request ids, one structured log line per request, and Prometheus metrics."""

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry.trace import format_span_id, format_trace_id, get_current_span
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.values import ValueClass
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.errors import server_error_response
from backend.core.tracing import tracing_var

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
access_logger = logging.getLogger("backend.access")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request and trace ids, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        if tracing_var.get() is not None:  # a traced app's request or job: find its span
            span = get_current_span().get_span_context()
            if span.is_valid:
                entry["trace_id"] = format_trace_id(span.trace_id)
                entry["span_id"] = format_span_id(span.span_id)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    """JSON lines on stdout for the app's loggers; uvicorn's access log stays off."""
    logger = logging.getLogger("backend")
    logger.setLevel(level)
    if not any(getattr(h, "_backend_json", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        handler._backend_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
    # One access line per request makes logging a hot path. Our lines carry no source
    # file, thread or process fields, so skip collecting them (Python logging HOWTO,
    # "Optimization"): walking the stack for the caller was the costliest part.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def multiprocess_mode() -> bool:
    """True when prometheus_client was started with PROMETHEUS_MULTIPROC_DIR."""
    return bool(getattr(ValueClass, "_multiprocess", False))


class Metrics:
    """The app's metrics, on a registry of its own (one per app, none global)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "Requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.in_flight = Gauge(
            "http_requests_in_flight",
            "Requests being served",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

        # Labelled children by (method, route, status): `.labels()` validates and locks on
        # every call, and this runs once per request.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency."""
        if method not in KNOWN_METHODS:  # any token is a valid method: keep labels bounded
            method = "OTHER"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = self._children[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> Response:
        """The text format: summed over every worker's files in multiprocess mode."""
        if multiprocess_mode():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = self.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class RequestContextMiddleware:
    """X-Request-ID in and out, headers every response carries, one JSON access line,
    the request metrics, and the 500 boundary: one layer for all of it, since each ASGI
    layer costs every request."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if _REQUEST_ID_OK.match(candidate) else None
                break
        request_id = request_id or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = False
        start = time.perf_counter()
        headers = [(b"x-request-id", request_id.encode()), *self.headers]

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        if self.metrics:
            self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Here rather than in Starlette's outermost middleware, so the answer still
            # gets its request id and security headers, and the logged traceback its id.
            if started:
                raise
            response = await server_error_response(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path_format", None) or (
                "/static" if scope["path"].startswith("/static/") else "unmatched"
            )
            if self.metrics:
                self.metrics.in_flight.dec()
                self.metrics.observe(scope["method"], template, status, duration)
            client = scope.get("client")
            access_logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": template,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "user_id": state.get("user_id"),
                    "client": client[0] if client else None,
                },
            )
            request_id_var.reset(token)
