"""Schedules: when each fires, the compare-and-swap that lets exactly one scheduler fire it, the loop.

A scheduler never does the work: it claims a fire in the database, commits, then enqueues
the schedule's job with `fire_at` (the slot it claimed) as its argument.

The claim is one row per schedule in `schedules`:

    UPDATE schedules SET next_fire_at = :next, version = :seen + 1, …
    WHERE name = :name AND version = :seen

Only the scheduler whose UPDATE changed the row fires; another that read the same version
changes nothing (PostgreSQL re-checks the WHERE after the first commits; InnoDB updates
read the latest committed row; SQLite serialises writers). Slots missed while every
scheduler was down are coalesced into one fire when one comes back. A scheduler that
dies between its commit and its enqueue loses that one fire; the next slot is unaffected.
"""

import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from cronsim import CronSim, CronSimError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from backend.core.tracing_context import Tracing
from backend.core.tracing_spans import trigger_span
from backend.database.session import Database
from backend.jobs.queue import Job, JobQueue
from backend.models import Schedule
from backend.models.base import utcnow

logger = logging.getLogger("backend.scheduler")
TICK_SECONDS = 1.0
EMBEDDED_THREAD = "embedded-scheduler"  # the app process's scheduler thread (no BROKER_URL)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A job fired on a cron expression (UTC; 5 fields, or 6 with seconds first) or every `every`."""

    name: str
    job: Job[...]
    cron: str | None = None
    every: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every is None):
            raise ValueError(f"schedule {self.name!r} needs exactly one of cron and every")
        if self.cron is not None:
            try:
                CronSim(self.cron, EPOCH)
            except CronSimError as exc:
                raise ValueError(f"schedule {self.name!r}: bad cron expression {self.cron!r}: {exc}") from exc
        elif self.every is not None and self.every <= timedelta(0):
            raise ValueError(f"schedule {self.name!r}: the interval must be positive")

    @property
    def spec(self) -> str:
        return f"cron {self.cron}" if self.cron is not None else f"every {self.every}"

    def next_after(self, moment: datetime) -> datetime:
        """The first fire strictly after `moment`; intervals are counted from the epoch, so every process agrees."""
        if self.cron is not None:
            return next(CronSim(self.cron, moment.astimezone(UTC)))
        assert self.every is not None
        slots = (moment - EPOCH) // self.every
        return EPOCH + (slots + 1) * self.every


@dataclass(frozen=True, slots=True)
class Fire:
    name: str
    fire_at: datetime
    won: bool  # False: another scheduler's UPDATE changed the row first


def claim_due(session: Session, *, schedule: ScheduleSpec, now: datetime, owner: str) -> Fire | None:
    """Claim this schedule's due fire, if any (`won` says whether this caller got it); commits."""
    row = session.execute(
        select(Schedule.spec, Schedule.next_fire_at, Schedule.version).where(Schedule.name == schedule.name)
    ).one_or_none()
    if row is None:
        try:
            session.execute(
                insert(Schedule).values(
                    name=schedule.name, spec=schedule.spec, next_fire_at=schedule.next_after(now), version=0
                )
            )
            session.commit()
        except IntegrityError:  # another scheduler created it first: same plan
            session.rollback()
        return None
    spec, next_fire_at, version = row
    claim = update(Schedule).where(Schedule.name == schedule.name, Schedule.version == version)
    if spec != schedule.spec:  # the setting changed: plan from the new one, fire nothing now
        session.execute(claim.values(spec=schedule.spec, next_fire_at=schedule.next_after(now), version=version + 1))
        session.commit()
        return None
    if next_fire_at > now:
        session.rollback()
        return None
    result = session.execute(
        claim.values(next_fire_at=schedule.next_after(now), version=version + 1, last_fired_at=now, fired_by=owner)
    )
    session.commit()
    return Fire(schedule.name, next_fire_at, won=result.rowcount == 1)  # type: ignore[attr-defined]


def process_name() -> str:
    """Who fired: host and pid, for the `fired_by` column and the logs."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class Scheduler:
    """Claims due fires and enqueues their jobs; `run` loops until stopped."""

    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        schedules: Iterable[ScheduleSpec],
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.db = db
        self.tracing = tracing  # each fire is a span; the job it sends joins its trace
        self.queue = queue
        self.schedules = tuple(schedules)
        self.clock = clock
        self.owner = owner or process_name()
        self.last_ok: float | None = None  # time.monotonic() of the last tick that reached the database
        self.fired = 0
        self.lost = 0

    def tick(self) -> list[Fire]:
        """One pass over every schedule: claim what is due, then enqueue what was claimed."""
        fired: list[Fire] = []
        now = self.clock()
        for schedule in self.schedules:
            fire = self.db.call(partial(claim_due, schedule=schedule, now=now, owner=self.owner), write=True)
            if fire is None:
                continue
            if not fire.won:
                self.lost += 1
                logger.info("schedule fire already claimed", extra={"schedule": fire.name})
                continue
            fired.append(fire)
            with trigger_span(self.tracing, fire.name):
                logger.info("schedule fired", extra={"schedule": fire.name, "fire_at": fire.fire_at.isoformat()})
                self.queue.enqueue_or_log(schedule.job, fire_at=fire.fire_at.isoformat())
        self.fired += len(fired)
        self.last_ok = time.monotonic()
        return fired

    def run(self, stop: threading.Event, tick_seconds: float = TICK_SECONDS) -> None:
        """Tick every `tick_seconds` until `stop` is set; a database that is down is logged and retried."""
        while not stop.is_set():
            try:
                self.tick()
            except (SQLAlchemyError, sqlite3.Error) as exc:  # sqlite3's: a BEGIN refused while the file is locked
                logger.warning("scheduler could not reach the database", extra={"error": type(exc).__name__})
            stop.wait(tick_seconds)

    def healthy(self, tick_seconds: float = TICK_SECONDS) -> bool:
        """True when the last good tick is recent (a few ticks, and never under 30 s)."""
        window = max(30.0, 5 * tick_seconds)
        return self.last_ok is not None and time.monotonic() - self.last_ok < window


class EmbeddedScheduler:
    """The scheduler loop on a daemon thread of the app process (no BROKER_URL)."""

    def __init__(self, scheduler: Scheduler, tick_seconds: float) -> None:
        self.scheduler = scheduler
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=scheduler.run, args=(self._stop, tick_seconds), name=EMBEDDED_THREAD, daemon=True
        )

    def start(self) -> "EmbeddedScheduler":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end and wait for its current tick."""
        self._stop.set()
        self._thread.join(timeout)


def start_embedded(
    *,
    db: Database,
    queue: JobQueue,
    schedules: Iterable[ScheduleSpec],
    tick_seconds: float = TICK_SECONDS,
    clock: Callable[[], datetime] = utcnow,
    tracing: Tracing | None = None,
) -> EmbeddedScheduler:
    """Run the scheduler inside this process until `.stop()`: the app's lifespan calls both."""
    scheduler = Scheduler(db=db, queue=queue, schedules=schedules, clock=clock, tracing=tracing)
    return EmbeddedScheduler(scheduler, tick_seconds).start()
