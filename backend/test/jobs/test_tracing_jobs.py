"""Job runs and scheduled fires are spans that join the trace of whatever sent them.

The job's message carries the sender's W3C context (`traceparent`); the run's span is its
child, in this process or a worker's. A schedule's fire starts a trace of its own, and
the job it sends joins it. Log lines written during a run carry the run's ids.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from dramatiq import Message
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind, format_span_id, format_trace_id, get_current_span

from backend.core.tracing import build_tracing
from backend.core.tracing_context import Tracing
from backend.database.session import Database
from backend.jobs.queue import TRACE_OPTION, JobContext
from backend.jobs.schedules import Scheduler, ScheduleSpec
from backend.test.conftest import build_settings
from backend.test.jobs.conftest import QueueFactory
from backend.test.jobs.helpers import FakeClock

logger = logging.getLogger("backend.jobs.test")
seen: list[tuple[str, str]] = []  # (trace_id, span_id) of the span current while `noted` ran


def noted(_ctx: JobContext, /, **_fire_at: str) -> None:
    """A job that logs one line and remembers the span it ran in."""
    context = get_current_span().get_span_context()
    seen.append((format_trace_id(context.trace_id), format_span_id(context.span_id)))
    logger.info("job ran")


@dataclass(frozen=True)
class Memory:
    tracing: Tracing
    exporter: InMemorySpanExporter

    def named(self, name: str) -> ReadableSpan:
        self.tracing.provider.force_flush()
        (span,) = [span for span in self.exporter.get_finished_spans() if span.name == name]
        return span


@pytest.fixture
def memory() -> Iterator[Memory]:
    settings = build_settings("sqlite://", OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318")
    exporter = InMemorySpanExporter()
    tracing = build_tracing(settings, exporter=exporter)
    assert tracing is not None
    seen.clear()
    yield Memory(tracing, exporter)
    tracing.shutdown()


def ids_of(span: Span) -> tuple[str, str]:
    context = span.get_span_context()
    return format_trace_id(context.trace_id), format_span_id(context.span_id)


def ids(span: ReadableSpan) -> tuple[str, str]:
    assert span.context is not None
    return format_trace_id(span.context.trace_id), format_span_id(span.context.span_id)


def test_a_run_is_a_child_of_the_span_that_sent_it(queue_factory: QueueFactory, memory: Memory) -> None:
    queue = queue_factory(noted, tracing=memory.tracing)
    with memory.tracing.tracer.start_as_current_span("POST /todos/todos"):
        queue.enqueue(noted)
    queue.join()

    request, run = memory.named("POST /todos/todos"), memory.named("job noted")
    assert run.kind == SpanKind.CONSUMER
    assert run.parent is not None and format_span_id(run.parent.span_id) == ids(request)[1]
    assert ids(run)[0] == ids(request)[0]
    assert seen == [ids(run)]


def test_a_run_sent_outside_any_span_starts_its_own_trace(queue_factory: QueueFactory, memory: Memory) -> None:
    queue = queue_factory(noted, tracing=memory.tracing)
    queue.enqueue(noted)
    queue.join()

    run = memory.named("job noted")
    assert run.parent is None


def test_the_context_travels_in_the_message_and_only_when_there_is_one(
    queue_factory: QueueFactory, memory: Memory
) -> None:
    queue = queue_factory(noted, start=False)
    queue.enqueue(noted)  # no span current: tracing off, or sent outside a request
    with memory.tracing.tracer.start_as_current_span("request") as request:
        queue.enqueue(noted)

    waiting = [Message.decode(raw) for raw in queue.broker.queues[queue.queue_name].queue]
    assert [TRACE_OPTION in message.options for message in waiting] == [False, True]
    traceparent = waiting[1].options[TRACE_OPTION]["traceparent"]
    assert traceparent.split("-")[1:3] == [ids_of(request)[0], ids_of(request)[1]]


@pytest.mark.usefixtures("no_schedules")
def test_a_fire_is_a_span_of_its_own_and_its_job_joins_it(
    database: Database, queue_factory: QueueFactory, memory: Memory
) -> None:
    clock = FakeClock()
    queue = queue_factory(noted, tracing=memory.tracing)
    spec = ScheduleSpec("nightly", noted, cron="0 3 * * *")
    scheduler = Scheduler(db=database, queue=queue, schedules=[spec], clock=clock, owner="t", tracing=memory.tracing)
    scheduler.tick()
    clock.advance(seconds=31)
    scheduler.tick()
    queue.join()

    fire, run = memory.named("trigger nightly"), memory.named("job noted")
    assert fire.parent is None and fire.kind == SpanKind.PRODUCER
    assert run.parent is not None and format_span_id(run.parent.span_id) == ids(fire)[1]
    assert ids(run)[0] == ids(fire)[0]


def test_every_interval_fire_is_its_own_trace(database: Database, queue_factory: QueueFactory, memory: Memory) -> None:
    clock = FakeClock()
    queue = queue_factory(noted, tracing=memory.tracing)
    spec = ScheduleSpec("sweep", noted, every=timedelta(seconds=15))
    scheduler = Scheduler(db=database, queue=queue, schedules=[spec], clock=clock, owner="t", tracing=memory.tracing)
    scheduler.tick()
    for _ in range(2):
        clock.advance(seconds=15)
        scheduler.tick()
    queue.join()

    memory.tracing.provider.force_flush()
    fires = [span for span in memory.exporter.get_finished_spans() if span.name == "trigger sweep"]
    assert len(fires) == 2
    assert len({ids(span)[0] for span in fires}) == 2
