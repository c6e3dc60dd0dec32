"""Job fixtures: embedded (in-memory) queues with their worker threads, metrics, a clean schedules table."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, delete

from backend.core.config import Settings
from backend.core.tracing_context import Tracing
from backend.database.session import Database, build_engine
from backend.jobs.events import JobMetrics
from backend.jobs.queue import Job, JobContext, JobQueue, build_job_queue
from backend.models import Schedule
from backend.services.mail import Outbox
from backend.test.conftest import build_settings

QueueFactory = Callable[..., JobQueue]
FAST_BACKOFF_MS = 10


@pytest.fixture
def job_settings() -> Settings:
    """Settings for jobs that touch no database."""
    return build_settings("sqlite://", JOB_MAX_RETRIES=3)


@pytest.fixture
def metrics() -> JobMetrics:
    return JobMetrics(CollectorRegistry())


@pytest.fixture
def queue_factory(job_settings: Settings, metrics: JobMetrics) -> Iterator[QueueFactory]:
    """Started embedded queues declaring the given jobs; stopped afterwards."""
    made: list[JobQueue] = []
    databases: list[Database] = []

    def make(
        *jobs: Job[...],
        settings: Settings | None = None,
        database: Database | None = None,
        start: bool = True,
        tracing: Tracing | None = None,
        **over: Any,
    ) -> JobQueue:
        chosen = settings or job_settings
        if database is None:
            database = Database(build_engine(chosen), chosen)
            databases.append(database)
        context = JobContext(settings=chosen, db=database, mailer=Outbox(), tracing=tracing)
        over.setdefault("min_backoff_ms", FAST_BACKOFF_MS)
        queue = build_job_queue(chosen, jobs=jobs, context=context, metrics=metrics, **over)
        if start:
            queue.start()
        made.append(queue)
        return queue

    yield make
    for queue in made:
        queue.stop(timeout_ms=1000)
    for database in databases:
        database.dispose()


@pytest.fixture
def database(engine: Engine, settings: Settings) -> Database:
    """A Database on the session's test database (the engine stays the tests' own)."""
    return Database(engine, settings)


@pytest.fixture
def no_schedules(engine: Engine) -> Iterator[None]:
    """The schedules table empty before and after (the suite's row clean-up does not know it yet)."""
    with engine.begin() as conn:
        conn.execute(delete(Schedule))
    yield
    with engine.begin() as conn:
        conn.execute(delete(Schedule))
