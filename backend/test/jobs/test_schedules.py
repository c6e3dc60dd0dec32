"""Schedules with a fake clock: when they fire, the compare-and-swap claim, the embedded loop."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from backend.database.session import Database
from backend.jobs.queue import JobContext
from backend.jobs.registry import DEFAULT_JOBS, default_schedules, nightly_cleanup, reminder_sweep
from backend.jobs.schedules import Scheduler, ScheduleSpec, start_embedded
from backend.models import Schedule
from backend.test.conftest import build_settings
from backend.test.jobs.conftest import QueueFactory
from backend.test.jobs.helpers import FakeClock
from backend.test.live import wait_until

pytestmark = pytest.mark.usefixtures("no_schedules")


class Fired:
    """A job that remembers the `fire_at` of every run."""

    __name__ = "fired_job"

    def __init__(self) -> None:
        self.fire_ats: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, ctx: JobContext, *, fire_at: str) -> None:
        with self.lock:
            self.fire_ats.append(fire_at)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class TestScheduleSpec:
    def test_a_cron_fires_at_its_next_match_in_utc(self) -> None:
        nightly = ScheduleSpec("n", nightly_cleanup, cron="0 3 * * *")

        assert nightly.next_after(at("2026-12-01T02:59:59")) == at("2026-12-01T03:00:00")
        assert nightly.next_after(at("2026-12-01T03:00:00")) == at("2026-12-02T03:00:00")

    def test_an_interval_is_counted_from_the_epoch_so_every_process_agrees(self) -> None:
        sweep = ScheduleSpec("s", reminder_sweep, every=timedelta(seconds=15))

        assert sweep.next_after(at("2026-12-01T10:00:07.5")) == at("2026-12-01T10:00:15")
        assert sweep.next_after(at("2026-12-01T10:00:15")) == at("2026-12-01T10:00:30")

    @pytest.mark.parametrize(
        "over",
        [{"cron": "not a cron"}, {}, {"cron": "* * * * *", "every": timedelta(seconds=1)}, {"every": timedelta(0)}],
    )
    def test_a_bad_schedule_is_refused(self, over: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            ScheduleSpec("bad", reminder_sweep, **over)  # type: ignore[arg-type]

    def test_the_defaults_are_the_nightly_cleanup_at_cleanup_cron_and_the_sweep(self) -> None:
        settings = build_settings("sqlite://", CLEANUP_CRON="30 4 * * *")

        schedules = {spec.name: spec.spec for spec in default_schedules(settings)}

        assert schedules == {"nightly_cleanup": "cron 30 4 * * *", "reminder_sweep": "every 0:00:15"}
        assert {spec.job for spec in default_schedules(settings)} <= set(DEFAULT_JOBS)


class TestScheduler:
    def scheduler(self, database: Database, queue_factory: QueueFactory, job: Fired, clock: FakeClock) -> Scheduler:
        spec = ScheduleSpec("nightly", job, cron="0 3 * * *")
        return Scheduler(db=database, queue=queue_factory(job), schedules=[spec], clock=clock, owner="test")

    def test_the_first_tick_plans_and_fires_nothing(self, database: Database, queue_factory: QueueFactory) -> None:
        job, clock = Fired(), FakeClock()
        scheduler = self.scheduler(database, queue_factory, job, clock)

        assert scheduler.tick() == []

        with database.session() as session:
            row = session.scalars(select(Schedule)).one()
        assert (row.name, row.next_fire_at, row.version) == ("nightly", at("2026-12-01T03:00:00"), 0)

    def test_a_due_schedule_fires_once_and_enqueues_its_job(
        self, database: Database, queue_factory: QueueFactory
    ) -> None:
        job, clock = Fired(), FakeClock()
        scheduler = self.scheduler(database, queue_factory, job, clock)
        scheduler.tick()

        clock.advance(seconds=31)  # 03:00:01
        fired = scheduler.tick()
        again = scheduler.tick()
        scheduler.queue.join()

        assert [(fire.name, fire.fire_at) for fire in fired] == [("nightly", at("2026-12-01T03:00:00"))]
        assert again == []
        assert job.fire_ats == ["2026-12-01T03:00:00+00:00"]

    def test_fires_missed_while_down_are_coalesced_into_one(
        self, database: Database, queue_factory: QueueFactory
    ) -> None:
        job, clock = Fired(), FakeClock()
        scheduler = self.scheduler(database, queue_factory, job, clock)
        scheduler.tick()

        clock.advance(days=3)
        fired = scheduler.tick()

        assert [fire.fire_at for fire in fired] == [at("2026-12-01T03:00:00")]
        with database.session() as session:
            assert session.scalars(select(Schedule.next_fire_at)).one() == at("2026-12-04T03:00:00")

    def test_a_changed_cron_replans_without_firing(self, database: Database, queue_factory: QueueFactory) -> None:
        job, clock = Fired(), FakeClock()
        self.scheduler(database, queue_factory, job, clock).tick()
        changed = ScheduleSpec("nightly", job, cron="0 5 * * *")
        scheduler = Scheduler(db=database, queue=queue_factory(), schedules=[changed], clock=clock, owner="test")

        clock.advance(hours=1)  # 03:59:30: due under the old cron, not under the new one
        fired = scheduler.tick()

        assert fired == []
        with database.session() as session:
            row = session.scalars(select(Schedule)).one()
        assert (row.spec, row.next_fire_at) == ("cron 0 5 * * *", at("2026-12-01T05:00:00"))

    def test_many_schedulers_racing_for_one_fire_fire_it_once(
        self, database: Database, queue_factory: QueueFactory
    ) -> None:
        job, clock = Fired(), FakeClock()
        spec = ScheduleSpec("nightly", job, cron="0 3 * * *")
        queue = queue_factory(job)
        schedulers = [
            Scheduler(db=database, queue=queue, schedules=[spec], clock=clock, owner=f"s{n}") for n in range(8)
        ]
        schedulers[0].tick()
        clock.advance(minutes=1)
        barrier = threading.Barrier(len(schedulers))

        def race(scheduler: Scheduler) -> None:
            barrier.wait()
            scheduler.tick()

        threads = [threading.Thread(target=race, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        queue.join()

        assert sum(s.fired for s in schedulers) == 1
        assert job.fire_ats == ["2026-12-01T03:00:00+00:00"]
        with database.session() as session:
            assert session.scalars(select(Schedule.version)).one() == 1

    def test_health_follows_the_last_good_tick(self, database: Database, queue_factory: QueueFactory) -> None:
        scheduler = self.scheduler(database, queue_factory, Fired(), FakeClock())

        before = scheduler.healthy()
        scheduler.tick()

        assert (before, scheduler.healthy()) == (False, True)


class TestEmbedded:
    def test_the_embedded_scheduler_fires_the_sweep_until_stopped(
        self, database: Database, queue_factory: QueueFactory, engine: Engine, tmp_path: Path
    ) -> None:
        job = Fired()
        queue = queue_factory(job)
        spec = ScheduleSpec("sweep", job, every=timedelta(milliseconds=200))

        embedded = start_embedded(db=database, queue=queue, schedules=[spec], tick_seconds=0.02)
        wait_until(lambda: len(job.fire_ats) >= 3, timeout=10, what="three sweeps")
        embedded.stop()
        count = len(job.fire_ats)
        queue.join()

        assert not embedded._thread.is_alive()
        assert len(job.fire_ats) - count <= 1  # at most the one enqueued as it stopped
        assert len(set(job.fire_ats)) == len(job.fire_ats)
