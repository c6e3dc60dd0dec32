"""What the worker and scheduler processes share: options, start-up, and waiting for a stop signal."""

import argparse
import importlib
import logging
import signal
import threading
from dataclasses import dataclass
from types import FrameType

from prometheus_client import CollectorRegistry

from backend.core.config import Settings, get_settings
from backend.core.logs import configure_logging
from backend.core.tracing import build_tracing, shutdown_tracing
from backend.core.tracing_clients import instrument_engine
from backend.core.tracing_context import Tracing
from backend.database.session import Database, build_engine
from backend.jobs.health import ALL_INTERFACES
from backend.jobs.queue import DEFAULT_QUEUE, Job
from backend.jobs.registry import DEFAULT_JOBS


def common_options(parser: argparse.ArgumentParser, *, health_port: int) -> None:
    parser.add_argument("--queue", default=DEFAULT_QUEUE, help="the broker queue (default: %(default)s)")
    parser.add_argument("--health-host", default=ALL_INTERFACES, help="address of /health and /metrics")
    parser.add_argument("--health-port", type=int, default=health_port, help="port of /health (default: %(default)s)")
    parser.add_argument(
        "--jobs",
        action="append",
        default=[],
        metavar="MODULE:NAME",
        help="a tuple of further job functions to declare (repeatable)",
    )


def load_jobs(specs: list[str]) -> tuple[Job[...], ...]:
    """DEFAULT_JOBS plus the tuples named `module:attribute`."""
    jobs: list[Job[...]] = list(DEFAULT_JOBS)
    for spec in specs:
        module, _, name = spec.partition(":")
        jobs.extend(getattr(importlib.import_module(module), name))
    return tuple(jobs)


@dataclass(frozen=True)
class Process:
    """What a worker or scheduler process holds once it has started."""

    settings: Settings
    db: Database
    registry: CollectorRegistry  # this process's /metrics
    stop: threading.Event  # set by SIGTERM or SIGINT
    tracing: Tracing | None  # with OTEL_EXPORTER_OTLP_ENDPOINT: job runs, fires and their SQL

    def close(self) -> None:
        """Release the database and flush the last spans."""
        self.db.dispose()
        shutdown_tracing(self.tracing)


def start_process(what: str, logger: logging.Logger) -> Process | None:
    """Settings, logging, the database and the stop signal; None (after logging why) without a broker."""
    settings = get_settings()
    configure_logging(settings.LOG_LEVEL)
    if settings.BROKER_URL is None:
        logger.error(f"BROKER_URL is not set: jobs and schedules run inside the app; no {what} is needed")
        return None
    db = Database(build_engine(settings), settings)
    tracing = build_tracing(settings)
    if tracing is not None:
        instrument_engine(db.engine, tracing)
    return Process(settings, db, CollectorRegistry(), stop_on_signals(), tracing)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (Kubernetes, Compose and Ctrl-C stop processes with them)."""
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop
