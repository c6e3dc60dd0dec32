"""The reminder jobs on the in-memory broker with a fake clock: swept, sent once, retried, counted."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.database.session import Database
from backend.jobs.events import JobMetrics
from backend.jobs.queue import JobContext, JobQueue, build_job_queue
from backend.jobs.registry import DEFAULT_JOBS, reminder_sweep
from backend.models import Todo
from backend.services.mail import Email, Outbox
from backend.test.conftest import build_settings
from backend.test.factories import make_todo, make_user

NOW = datetime(2026, 12, 24, 8, 0, tzinfo=UTC)


class FlakySmtp(Outbox):
    """An outbox whose first `failures` sends fail like a refused SMTP connection."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, email: Email) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("SMTP server down")
        super().send(email)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def run(engine: Engine, settings: Settings, clock: Clock) -> Iterator[tuple[JobQueue, JobMetrics, list[Outbox]]]:
    """An embedded queue with the app's jobs, a fake clock and the mailer `mailers[0]` (replaceable)."""
    chosen = build_settings(settings.DATABASE_URL, JOB_MAX_RETRIES=3)
    mailers: list[Outbox] = [Outbox()]
    metrics = JobMetrics(CollectorRegistry())

    class Switchable:
        delivers = False

        def send(self, email: Email) -> None:
            mailers[0].send(email)

    db = Database(engine, chosen)
    context = JobContext(settings=chosen, db=db, mailer=Switchable(), clock=clock)
    queue = build_job_queue(chosen, jobs=DEFAULT_JOBS, context=context, metrics=metrics, min_backoff_ms=10)
    queue.start()
    yield queue, metrics, mailers
    queue.stop(timeout_ms=1000)


def due(session: Session, owner_id: int, at: datetime, **over: object) -> int:
    todo_id = make_todo(session, owner_id, **over)["id"]
    session.execute(update(Todo).where(Todo.id == todo_id).values(remind_at=at))
    session.commit()
    return todo_id


def sweep(queue: JobQueue) -> None:
    queue.enqueue(reminder_sweep, fire_at=NOW.isoformat())
    queue.join()


def sent(session: Session) -> dict[int, datetime | None]:
    session.expire_all()
    rows = dict(session.execute(select(Todo.id, Todo.reminder_sent_at).where(Todo.remind_at.is_not(None))).all())
    session.commit()  # end the read: SQLite writers wait for open readers
    return rows


def test_due_reminders_are_mailed_once_however_often_the_sweep_runs(
    run: tuple[JobQueue, JobMetrics, list[Outbox]], db_session: Session, clock: Clock
) -> None:
    queue, metrics, mailers = run
    ann = make_user(db_session, email="ann@example.com").id
    bob = make_user(db_session, email="bob@example.com").id
    first = due(db_session, ann, NOW - timedelta(seconds=10), title="Water plants")
    second = due(db_session, bob, NOW - timedelta(seconds=1), title="Pay rent")
    later = due(db_session, ann, NOW + timedelta(minutes=5), title="Later")

    sweep(queue)
    sweep(queue)

    assert sorted((m.to, m.subject) for m in mailers[0].messages) == [
        ("ann@example.com", "Reminder: Water plants"),
        ("bob@example.com", "Reminder: Pay rent"),
    ]
    assert sent(db_session) == {first: NOW, second: NOW, later: None}
    assert metrics.value("done", "send_reminder") == 2

    clock.now = NOW + timedelta(minutes=5)
    sweep(queue)
    assert [m.subject for m in mailers[0].messages].count("Reminder: Later") == 1
    assert len(mailers[0].messages) == 3


def test_completed_todos_and_reminders_too_late_are_not_sent(
    run: tuple[JobQueue, JobMetrics, list[Outbox]], db_session: Session
) -> None:
    queue, _, mailers = run
    owner = make_user(db_session).id
    due(db_session, owner, NOW - timedelta(seconds=10), complete=True)
    due(db_session, owner, NOW - timedelta(hours=24, seconds=1))  # REMINDER_MAX_LATE_HOURS is 24

    sweep(queue)

    assert list(mailers[0].messages) == []


def test_a_reminder_missed_while_down_is_sent_late_when_it_comes_back(
    run: tuple[JobQueue, JobMetrics, list[Outbox]], db_session: Session
) -> None:
    queue, _, mailers = run
    owner = make_user(db_session).id
    todo_id = due(db_session, owner, NOW - timedelta(hours=23))

    sweep(queue)

    assert len(mailers[0].messages) == 1
    assert sent(db_session)[todo_id] == NOW


def test_a_refused_mail_is_retried_and_then_sent_once(
    run: tuple[JobQueue, JobMetrics, list[Outbox]], db_session: Session
) -> None:
    queue, metrics, mailers = run
    mailers[0] = FlakySmtp(failures=2)
    owner = make_user(db_session).id
    todo_id = due(db_session, owner, NOW - timedelta(seconds=3))

    sweep(queue)

    assert len(mailers[0].messages) == 1
    assert metrics.value("retried", "send_reminder") == 2
    assert sent(db_session)[todo_id] == NOW


def test_a_reminder_that_keeps_failing_is_counted_and_claimed_again_later(
    run: tuple[JobQueue, JobMetrics, list[Outbox]], db_session: Session, clock: Clock
) -> None:
    queue, metrics, mailers = run
    mailers[0] = FlakySmtp(failures=4)  # JOB_MAX_RETRIES=3: four runs fail
    owner = make_user(db_session).id
    todo_id = due(db_session, owner, NOW - timedelta(seconds=3))

    sweep(queue)
    assert metrics.value("failed", "send_reminder") == 1
    assert sent(db_session)[todo_id] is None

    clock.now = NOW + timedelta(minutes=16)  # the claim went stale: the next sweep takes it again
    sweep(queue)
    assert len(mailers[0].messages) == 1
    assert sent(db_session)[todo_id] == clock.now
