"""Structured logs: one JSON object per line, with the request and trace ids."""

import logging
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from opentelemetry.trace import format_span_id, format_trace_id, get_current_span

from backend.core.tracing_context import tracing_var

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _entry(time_text: str, level: str, name: str, message: str) -> dict[str, Any]:
    """A line's leading fields: time, level, logger, message, request and trace ids."""
    entry: dict[str, Any] = {
        "time": time_text,
        "level": level,
        "logger": name,
        "message": message,
    }
    request_id = request_id_var.get()
    if request_id:
        entry["request_id"] = request_id
    if tracing_var.get() is not None:  # a traced app's request or job: find its span
        span = get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format_trace_id(span.trace_id)
            entry["span_id"] = format_span_id(span.span_id)
    return entry


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request and trace ids, extras."""

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")  # the last line's second, and its text

    def line_time(self, created: float) -> str:
        """`datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`, the
        date and time of day formatted once a second, not for every line."""
        whole = int(created)
        micros = round((created - whole) * 1_000_000)  # rounded as datetime.fromtimestamp does
        if micros >= 1_000_000:
            whole, micros = whole + 1, micros - 1_000_000
        second, text = self._second
        if whole != second:
            text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (whole, text)  # one tuple: a thread in between only formats again
        return f"{text}.{micros // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(self.line_time(record.created), record.levelname, record.name, record.getMessage())
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _sole_json_handler(logger: logging.Logger) -> logging.StreamHandler[Any] | None:
    """The app's JSON handler when it is the only place `logger`'s INFO lines go, unfiltered."""
    parent = logger.parent
    if logger.handlers or logger.filters or not logger.propagate or parent is None:
        return None
    if parent.filters or parent.propagate or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if not getattr(handler, "_backend_json", False) or handler.filters or handler.level > logging.INFO:
        return None
    if not isinstance(handler.formatter, JsonFormatter):
        return None
    return cast(logging.StreamHandler[Any], handler)


def info_line(logger: logging.Logger, message: str, fields: dict[str, Any]) -> None:
    """`logger.info(message, extra=fields)`, the same line, for a line written per request.

    Where the line goes to the app's JSON handler alone (as configured), it is built and
    written here directly: no LogRecord, no formatter pass over its attributes, no handler
    chain. In a request that cost about 33 µs a line, against 8 µs in a tight loop: about
    8 % of a one-todo read (docs/performance.md, "The access line"). Anywhere else (other
    handlers, filters, a test's capture) the logging module writes it as usual.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _sole_json_handler(logger)
    if handler is None:
        logger.info(message, extra=fields)
        return
    formatter = cast(JsonFormatter, handler.formatter)
    entry = _entry(formatter.line_time(time.time()), "INFO", logger.name, message)
    entry.update(fields)
    line = orjson.dumps(entry, default=str).decode() + handler.terminator
    handler.acquire()
    try:
        handler.stream.write(line)
        handler.stream.flush()
    except Exception:  # noqa: BLE001 - as StreamHandler.emit: reported, never raised
        handler.handleError(logger.makeRecord(logger.name, logging.INFO, "", 0, message, (), None, extra=fields))
    finally:
        handler.release()


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
