"""Reminders end to end: real schedulers and workers on Redis and RabbitMQ, a real SMTP server.

Two schedulers and two workers send each due reminder exactly once; reminders due while
no worker runs are sent when one starts again.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from backend.models import Todo
from backend.test.factories import make_todo, make_user
from backend.test.jobs.test_live import WAIT, ProcessFactory, broker, fires, processes, scheduler
from backend.test.live import wait_until
from backend.test.mail_sink import Sink

__all__ = ["broker", "processes"]  # the live fixtures, shared with test_live.py

pytestmark = pytest.mark.usefixtures("no_schedules")


@pytest.fixture
def smtp(sink: tuple[Sink, int]) -> Iterator[tuple[Sink, dict[str, str]]]:
    handler, port = sink
    yield handler, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"}


def due_reminders(session: Session, count: int, at: datetime, label: str = "Reminder test") -> dict[str, int]:
    """`count` todos of two users reminded at `at`: subject → todo id."""
    owners = [make_user(session, email=f"{name}-{at.timestamp():.0f}@example.com").id for name in ("ann", "bob")]
    subjects = {}
    for n in range(count):
        todo = make_todo(session, owners[n % 2], title=f"{label} {n}")
        session.execute(update(Todo).where(Todo.id == todo["id"]).values(remind_at=at))
        subjects[f"Reminder: {label} {n}"] = todo["id"]
    session.commit()
    return subjects


def unsent(engine: Engine, ids: list[int]) -> int:
    with engine.connect() as conn:
        rows = conn.execute(select(Todo.id).where(Todo.id.in_(ids), Todo.reminder_sent_at.is_(None))).all()
    return len(rows)


def subjects(handler: Sink) -> Counter[str]:
    return Counter(str(message["Subject"]) for message in handler.messages)


def test_two_schedulers_and_two_workers_send_each_reminder_exactly_once(
    processes: ProcessFactory, smtp: tuple[Sink, dict[str, str]], db_session: Session, engine: Engine
) -> None:
    handler, env = smtp
    expected = due_reminders(db_session, 12, datetime.now(UTC) - timedelta(seconds=1))
    completed = make_todo(db_session, make_user(db_session).id, title="Done already", complete=True)
    db_session.execute(update(Todo).where(Todo.id == completed["id"]).values(remind_at=datetime.now(UTC)))
    db_session.commit()

    started = [
        *(processes("worker", "--threads", "2", wait=False, extra_env=env) for _ in range(2)),
        *(scheduler(processes, wait=False) for _ in range(2)),
    ]
    for process in started:
        process.wait_ready()
    schedulers = started[2:]

    wait_until(lambda: unsent(engine, list(expected.values())) == 0, timeout=WAIT, what="every reminder sent")
    sweeps_then = sum(name == "reminder_sweep" for s in schedulers for name, _ in fires(s))
    wait_until(
        lambda: sum(name == "reminder_sweep" for s in schedulers for name, _ in fires(s)) >= sweeps_then + 8,
        timeout=WAIT,
        what="eight more sweeps after the last reminder went out",
    )

    assert subjects(handler) == dict.fromkeys(expected, 1)
    assert all(message["To"].endswith("@example.com") for message in handler.messages)


def test_reminders_due_while_no_worker_runs_are_sent_when_one_starts(
    processes: ProcessFactory, smtp: tuple[Sink, dict[str, str]], db_session: Session, engine: Engine
) -> None:
    handler, env = smtp
    first = processes("worker", "--threads", "1", extra_env=env)
    scheduler(processes)
    early = due_reminders(db_session, 2, datetime.now(UTC) - timedelta(seconds=1), "Before the restart")
    wait_until(lambda: unsent(engine, list(early.values())) == 0, timeout=WAIT, what="the first reminders sent")

    first.stop()
    assert first.popen.returncode == 0, first.tail()
    late = due_reminders(db_session, 3, datetime.now(UTC), "While no worker ran")
    processes("worker", "--threads", "1", extra_env=env)

    wait_until(lambda: unsent(engine, list(late.values())) == 0, timeout=WAIT, what="the reminders due while down")
    assert subjects(handler) == dict.fromkeys([*early, *late], 1)
