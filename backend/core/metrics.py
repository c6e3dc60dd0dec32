"""Prometheus metrics for requests, on a registry of the app's own."""

import os
from glob import glob
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.values import ValueClass
from starlette.responses import Response

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def multiprocess_mode() -> bool:
    """True when prometheus_client was started with PROMETHEUS_MULTIPROC_DIR."""
    return bool(getattr(ValueClass, "_multiprocess", False))


def recorded_files(directory: str) -> list[str]:
    """The workers' metric files in `directory`, less those not yet sized.

    A worker creates its file and only then sizes it. A scrape in between read 0 bytes and
    failed with struct.error, losing every worker's metrics; a worker killed in between
    leaves its file empty for good (prometheus/client_python#1199, open). Once sized, a
    file holds a valid header, so a file seen non-empty here reads whole.
    """
    files = []
    for path in glob(os.path.join(directory, "*.db")):
        try:
            if os.stat(path).st_size:
                files.append(path)
        except FileNotFoundError:  # a dead worker's live-gauge file, removed meanwhile
            continue
    return files


class WorkerFilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's collector over `recorded_files`: sums what the workers recorded."""

    def __init__(self, registry: CollectorRegistry | None, path: str | None = None) -> None:
        super().__init__(registry, path)  # type: ignore[no-untyped-call]

    def collect(self) -> Any:
        return self.merge(recorded_files(self._path), accumulate=True)  # type: ignore[no-untyped-call]


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
        # Read from the database at each scrape (any process's view is the same).
        self.oldest_reminder = Gauge(
            "reminders_oldest_due_seconds",
            "How long the oldest due reminder not yet sent has been due (0: none waiting)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
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
            WorkerFilesCollector(registry)
        else:
            registry = self.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
