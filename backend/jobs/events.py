"""What each job run did: counters, one log line per outcome, and dramatiq's own log lines.

dramatiq's lines name a message as `actor(args…)`, and arguments can be addresses or
tokens: they are logged with the message id instead.
"""

import logging
import sys
import time
from typing import Any

from dramatiq import Broker, Message, Middleware
from dramatiq.broker import MessageProxy
from prometheus_client import CollectorRegistry, Counter

from backend.core.logs import JsonFormatter

logger = logging.getLogger("backend.jobs")
ERROR_CHARS = 300


class JobMetrics:
    """Jobs enqueued, done, failed (for good) and retried, on the registry it is given."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.enqueued = Counter("jobs_enqueued_total", "Jobs sent to the queue", ["job"], registry=registry)
        self.done = Counter("jobs_done_total", "Jobs that ran to the end", ["job"], registry=registry)
        self.failed = Counter(
            "jobs_failed_total",
            "Jobs given up on: retries exhausted, or the broker refused them",
            ["job"],
            registry=registry,
        )
        self.retried = Counter("jobs_retried_total", "Failed runs that will be tried again", ["job"], registry=registry)

    def value(self, outcome: str, job: str) -> float:
        """One counter's value, e.g. `value("done", "nightly_cleanup")` (0 when never counted)."""
        return self.registry.get_sample_value(f"jobs_{outcome}_total", {"job": job}) or 0.0


def register_job_metrics(registry: CollectorRegistry) -> JobMetrics:
    """The job counters, registered on the app's (or the worker's) own registry."""
    return JobMetrics(registry)


def describe_error(exc: BaseException) -> str:
    """The error's class and message, cut short; never the job's arguments."""
    text = str(exc)
    return f"{type(exc).__name__}: {text[:ERROR_CHARS]}" if text else type(exc).__name__


class JobEvents(Middleware):
    """Counts and logs each run's outcome, once `Retries` has decided whether it is tried again."""

    def __init__(self, metrics: JobMetrics | None) -> None:
        self.metrics = metrics
        self._started: dict[str, float] = {}

    def before_process_message(self, broker: Broker, message: Any) -> None:
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self, broker: Broker, message: Any, *, result: object = None, exception: BaseException | None = None
    ) -> None:
        started = self._started.pop(message.message_id, None)
        ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
        fields = {"job": message.actor_name, "message_id": message.message_id, "duration_ms": ms}
        attempt = int(message.options.get("retries", 0))
        if exception is None:
            logger.info("job done", extra=fields)
            self._count("done", message.actor_name)
        elif message.failed:
            error = describe_error(exception)
            logger.error(
                "job failed for good",
                extra={**fields, "attempts": attempt, "error": error},
                exc_info=(type(exception), exception, exception.__traceback__),
            )
            self._count("failed", message.actor_name)
        else:
            logger.warning(
                "job will be retried", extra={**fields, "attempt": attempt, "error": describe_error(exception)}
            )
            self._count("retried", message.actor_name)

    def after_skip_message(self, broker: Broker, message: Any) -> None:
        self._started.pop(message.message_id, None)
        logger.error("job skipped", extra={"job": message.actor_name, "message_id": message.message_id})
        self._count("failed", message.actor_name)

    def _count(self, outcome: str, job: str) -> None:
        if self.metrics is not None:
            getattr(self.metrics, outcome).labels(job).inc()


class NoMessageArgs(logging.Filter):
    """dramatiq prints a message as `actor(args…)`: arguments can be addresses or tokens.
    Show its id instead, and drop its failure line (ours, without arguments, is logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg.startswith("Failed to process message"):
            return False
        if isinstance(record.args, tuple):
            record.args = tuple(_message_id(arg) for arg in record.args)
        return True


def _message_id(arg: object) -> object:
    if isinstance(arg, Message | MessageProxy):
        return f"{arg.actor_name}#{arg.message_id}"
    return arg


def configure_job_logging() -> None:
    """dramatiq's own lines (warnings and up) as JSON on stdout, like the app's, without job arguments."""
    dramatiq_logger = logging.getLogger("dramatiq")
    if any(getattr(handler, "_backend_jobs", False) for handler in dramatiq_logger.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(NoMessageArgs())
    handler._backend_jobs = True  # type: ignore[attr-defined]
    dramatiq_logger.addHandler(handler)
    dramatiq_logger.setLevel(logging.WARNING)
    dramatiq_logger.propagate = False
