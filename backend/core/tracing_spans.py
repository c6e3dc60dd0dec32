"""Spans for background work: job runs, scheduled triggers and event fan-out, and the
W3C context they carry from the code that enqueued them."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from backend.core.tracing_context import Tracing

# W3C Trace Context only, whatever the process-wide propagator says: it is what
# `traceparent` means, and the carriers we write are read back by this module.
_PROPAGATOR = TraceContextTextMapPropagator()


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
