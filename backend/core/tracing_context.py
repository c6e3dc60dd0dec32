"""Which app's tracing the running request or job belongs to (see tracing.py)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer


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
