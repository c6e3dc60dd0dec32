"""Everything the app holds for background work: built in `create_app`, started and stopped by its lifespan.

    background = Background(settings, db, registry=metrics.registry if metrics else None)
    state = AppState(..., background=background)   # services get `background.queue`
    # lifespan:
    background.start()                           # embedded: worker threads + scheduler thread
    yield
    await anyio.to_thread.run_sync(background.stop)

With BROKER_URL set the app only sends jobs: `start()` starts nothing, the worker and
scheduler processes do the rest. Without it, jobs and schedules run in this process, on
threads (never on the event loop); with several app processes each runs a scheduler, and
the claim in the `schedules` table still fires each slot once.
"""

from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from backend.core.config import Settings
from backend.core.tracing_context import Tracing
from backend.database.session import Database
from backend.jobs.events import JobMetrics
from backend.jobs.queue import EMBEDDED_THREADS, Job, JobContext, build_job_queue
from backend.jobs.registry import DEFAULT_JOBS, default_schedules
from backend.jobs.schedules import TICK_SECONDS, EmbeddedScheduler, ScheduleSpec, start_embedded
from backend.services.mail import build_mailer


class Background:
    """The app's mailer, job queue and (embedded) scheduler."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        registry: CollectorRegistry | None,
        jobs: Iterable[Job[...]] = DEFAULT_JOBS,
        schedules: Iterable[ScheduleSpec] | None = None,
        tick_seconds: float = TICK_SECONDS,
        tracing: Tracing | None = None,
    ) -> None:
        self.db = db
        self.tracing = tracing
        self.mailer = build_mailer(settings)
        self.metrics = JobMetrics(registry) if registry is not None else None
        context = JobContext(settings=settings, db=db, mailer=self.mailer, tracing=tracing)
        self.queue = build_job_queue(settings, jobs=jobs, context=context, metrics=self.metrics)
        self.schedules = tuple(schedules) if schedules is not None else default_schedules(settings)
        self.tick_seconds = tick_seconds
        self.scheduler: EmbeddedScheduler | None = None

    def start(self, threads: int = EMBEDDED_THREADS) -> None:
        """Embedded set-up: start the worker threads and the scheduler thread. Broker set-up: nothing."""
        if not self.queue.embedded or self.scheduler is not None:
            return
        self.queue.start(threads)
        self.scheduler = start_embedded(
            db=self.db, queue=self.queue, schedules=self.schedules, tick_seconds=self.tick_seconds, tracing=self.tracing
        )

    def stop(self) -> None:
        """Stop the scheduler, let running jobs finish (up to 10 s), close the broker. Blocks: call it off the loop."""
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        self.queue.stop()
