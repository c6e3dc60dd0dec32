"""Structured logs: one JSON object per line, with the request and trace ids."""

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry.trace import format_span_id, format_trace_id, get_current_span

from backend.core.tracing_context import tracing_var

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


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


def skip_unused_record_fields() -> None:
    """Stop collecting record fields our lines never show (the app's lifespan calls it).

    One access line per request makes logging a hot path. Our lines carry no source
    file, thread or process fields, so skip collecting them (Python logging HOWTO,
    "Optimization"): walking the stack for the caller was the costliest part. These are
    the logging module's process-wide globals, so they change only in a serving process.
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
