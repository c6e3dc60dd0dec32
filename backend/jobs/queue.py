"""The job queue: plain functions sent to a dramatiq broker, retried with exponential backoff.

One interface, two set-ups, chosen from `Settings.BROKER_URL`:

- unset (the embedded default): an in-memory broker (dramatiq's `StubBroker`) and a
  dramatiq `Worker` whose threads run inside the app process, off the event loop.
- `redis://…` or `amqp://…`: the broker is Redis or RabbitMQ; the app only enqueues, and
  `python -m backend.worker` processes run the jobs.

A job is a plain function `job(ctx: JobContext, **kwargs)` whose arguments are JSON
values; it must be idempotent (a job may run twice: a retry after a partial success, a
worker killed mid-job). Nothing here is global: dramatiq's own global broker is never
touched; each `JobQueue` declares its actors on the broker it owns.
"""

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

import dramatiq
from dramatiq import Broker, Middleware, Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import DramatiqError
from dramatiq.middleware import AgeLimit, CurrentMessage, Retries, ShutdownNotifications, TimeLimit
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.tracing_context import Tracing
from backend.core.tracing_spans import inject_context, job_span
from backend.database.outbox import after_commit
from backend.database.session import Database
from backend.jobs.events import JobEvents, JobMetrics, configure_job_logging, describe_error
from backend.models.base import utcnow
from backend.services.mail import Mailer

P = ParamSpec("P")
logger = logging.getLogger("backend.jobs")

DEFAULT_QUEUE = "default"
# First retry after 5 s, then 10, 20, 40 … (dramatiq adds jitter), never more than an hour apart.
MIN_BACKOFF_MS = 5_000
MAX_BACKOFF_MS = 3_600_000
TIME_LIMIT_MS = 10 * 60_000
EMBEDDED_THREADS = 2
STOP_TIMEOUT_MS = 10_000
# Raised by a broker that cannot be reached when a job is sent.
TRACE_OPTION = "trace_context"  # the message option carrying the sender's `traceparent`
# What a broker that is down raises on send (the Redis broker adds redis-py's errors).
SEND_ERRORS: tuple[type[Exception], ...] = (DramatiqError, OSError)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job gets besides its arguments: built once by the process that runs jobs."""

    settings: Settings
    db: Database
    mailer: Mailer
    clock: Callable[[], datetime] = utcnow
    tracing: Tracing | None = None  # each run is a span, a child of what enqueued it
    queue: "JobQueue | None" = None  # set by `JobQueue.register`: the queue the job runs from

    def enqueue(self, job: "Job[P]", /, *args: P.args, **kwargs: P.kwargs) -> str | None:
        """Send another job from within a job (a sweep fanning out); a broker that is down is logged, not raised."""
        if self.queue is None:
            raise RuntimeError("this context belongs to no queue")
        return self.queue.enqueue_or_log(job, *args, **kwargs)


Job = Callable[Concatenate[JobContext, P], object]


class UnknownJob(LookupError):
    """A function that was never registered as a job on this queue."""


def build_broker(settings: Settings, middleware: list[Middleware]) -> tuple[Broker, tuple[type[Exception], ...]]:
    """The broker named by BROKER_URL (Redis, RabbitMQ, or in-memory when unset) and what
    sending on it raises when it cannot be reached."""
    url = settings.BROKER_URL
    if url is None:
        return StubBroker(middleware=middleware), SEND_ERRORS
    # Each broker's client library is imported only when it is used: they weigh ~10 MB
    # of every app worker's memory.
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker  # noqa: PLC0415
        from redis.exceptions import RedisError  # noqa: PLC0415

        redis_broker: Broker = RedisBroker(url=url, middleware=middleware)  # type: ignore[no-untyped-call]
        return redis_broker, (*SEND_ERRORS, RedisError)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker  # noqa: PLC0415

        return RabbitmqBroker(url=url, middleware=middleware), SEND_ERRORS
    raise ValueError("BROKER_URL must start with redis://, rediss://, unix://, amqp:// or amqps://")


@dataclass
class JobQueue:
    """The broker, the jobs declared on it, and (embedded, or in a worker) the threads that run them."""

    broker: Broker
    embedded: bool
    queue_name: str = DEFAULT_QUEUE
    metrics: JobMetrics | None = None
    send_errors: tuple[type[Exception], ...] = SEND_ERRORS  # what `enqueue_or_log` logs instead of raising
    _names: dict[Callable[..., object], str] = field(default_factory=dict)
    _worker: Worker | None = None

    def register(self, jobs: Iterable[Job[...]], context: JobContext | None, *, max_retries: int) -> None:
        """Declare each job as an actor; `context` is what they run with (None where jobs only get sent)."""
        if context is not None:
            context = dataclasses.replace(context, queue=self)
        for job in jobs:
            name = job.__name__
            if name in self.broker.actors:
                raise ValueError(f"two jobs are named {name!r}")
            dramatiq.Actor(
                functools.partial(_run, job, context),
                broker=self.broker,
                actor_name=name,
                queue_name=self.queue_name,
                priority=0,
                options={"max_retries": max_retries},
            )
            self._names[job] = name

    def enqueue(self, job: Job[P], /, *args: P.args, **kwargs: P.kwargs) -> str:
        """Send `job(ctx, *args, **kwargs)` to the queue now; the message id. Broker errors propagate."""
        name = self._names.get(job)
        if name is None:
            raise UnknownJob(getattr(job, "__name__", repr(job)))
        # The W3C context of the request or trigger sending it (none when tracing is off),
        # so that the run's span joins that trace, in this process or a worker's.
        options: dict[str, Any] = {TRACE_OPTION: carrier} if (carrier := inject_context()) else {}
        message = self.broker.get_actor(name).send_with_options(args=args, kwargs=kwargs, **options)
        if self.metrics is not None:
            self.metrics.enqueued.labels(name).inc()
        return str(message.message_id)

    def enqueue_or_log(self, job: Job[P], /, *args: P.args, **kwargs: P.kwargs) -> str | None:
        """`enqueue`, but a broker that is down is logged and counted as a failed job, not raised."""
        try:
            return self.enqueue(job, *args, **kwargs)
        except self.send_errors as exc:
            name = self._names.get(job, "unknown")
            logger.error("job could not be enqueued", extra={"job": name, "error": describe_error(exc)})
            if self.metrics is not None:
                self.metrics.failed.labels(name).inc()
            return None

    def start(self, threads: int = EMBEDDED_THREADS) -> None:
        """Start worker threads in this process: the embedded set-up's, or a worker process's."""
        if self._worker is None:
            self._worker = Worker(self.broker, worker_threads=threads, worker_timeout=100)
            self._worker.start()

    def worker_alive(self) -> bool:
        """True while this process's worker threads (and their consumers) are running."""
        worker = self._worker
        if worker is None:
            return False
        threads = [*worker.workers, *worker.consumers.values()]
        return bool(threads) and all(thread.is_alive() for thread in threads)

    def join(self, timeout_ms: int = 10_000) -> None:
        """Embedded only (tests): wait until every job sent so far, retries included, has run."""
        if not isinstance(self.broker, StubBroker):
            raise TypeError("join() waits on the in-memory broker only")
        self.broker.join(self.queue_name, timeout=timeout_ms, fail_fast=False)
        if self._worker is not None:
            self._worker.join()

    def stop(self, timeout_ms: int = STOP_TIMEOUT_MS) -> None:
        """Stop the worker threads (a running job may finish within `timeout_ms`) and close the broker."""
        if self._worker is not None:
            self._worker.stop(timeout=timeout_ms)
            self._worker = None
        self.broker.close()


def _run(job: Job[...], context: JobContext | None, *args: Any, **kwargs: Any) -> None:
    if context is None:
        raise RuntimeError(f"job {job.__name__} reached a process that only sends jobs")
    message = CurrentMessage.get_current_message()
    carrier = message.options.get(TRACE_OPTION, {}) if message is not None else {}
    with job_span(context.tracing, job.__name__, carrier):
        job(context, *args, **kwargs)


def build_job_queue(
    settings: Settings,
    *,
    jobs: Iterable[Job[...]],
    context: JobContext | None,
    metrics: JobMetrics | None = None,
    queue_name: str = DEFAULT_QUEUE,
    min_backoff_ms: int = MIN_BACKOFF_MS,
    max_backoff_ms: int = MAX_BACKOFF_MS,
) -> JobQueue:
    """The queue BROKER_URL asks for, with `jobs` declared; retried up to JOB_MAX_RETRIES times."""
    configure_job_logging()
    # dramatiq runs the `after_*` hooks last to first: JobEvents comes before Retries in
    # the list so that it sees the message after Retries has marked it failed (or not).
    middleware: list[Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        CurrentMessage(),
        JobEvents(metrics),
        Retries(max_retries=settings.JOB_MAX_RETRIES, min_backoff=min_backoff_ms, max_backoff=max_backoff_ms),
    ]
    broker, send_errors = build_broker(settings, middleware)
    queue = JobQueue(
        broker=broker,
        send_errors=send_errors,
        embedded=settings.BROKER_URL is None,
        queue_name=queue_name,
        metrics=metrics,
    )
    queue.register(jobs, context, max_retries=settings.JOB_MAX_RETRIES)
    return queue


def enqueue_after_commit(session: Session, queue: JobQueue, job: Job[P], /, *args: P.args, **kwargs: P.kwargs) -> None:
    """Send `job` once `session`'s transaction commits; nothing is sent if it rolls back.

    Call it from a service function before its commit. A broker that is down when the
    commit has happened is logged and counted (`jobs_failed_total`), not raised: the
    change is saved, and the sweeps that follow pick up whatever was left undone.
    """
    after_commit(session, functools.partial(queue.enqueue_or_log, job, *args, **kwargs))
