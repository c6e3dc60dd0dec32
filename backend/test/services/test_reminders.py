"""Reminders: which are due, claiming them once, the mail, and how late the oldest one is."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from backend.database.outbox import bind_publisher
from backend.models import Todo
from backend.services import reminders
from backend.test.factories import make_todo, make_user

NOW = datetime(2026, 12, 24, 8, 0, tzinfo=UTC)
LATE = timedelta(hours=24)


def remind(session: Session, todo_id: int, at: datetime | None, **state: object) -> None:
    """Set a reminder time directly (the service would refuse one in the past)."""
    session.execute(update(Todo).where(Todo.id == todo_id).values(remind_at=at, **state))
    session.commit()


def due_todo(session: Session, owner_id: int, at: datetime, **over: object) -> int:
    todo_id = make_todo(session, owner_id, **over)["id"]
    remind(session, todo_id, at)
    return todo_id


def sent_at(session: Session, todo_id: int) -> datetime | None:
    session.expire_all()
    value = session.execute(select(Todo.reminder_sent_at).where(Todo.id == todo_id)).scalar_one()
    session.commit()
    return value


class TestClaim:
    def test_claims_due_open_unsent_reminders_only(self, db_session: Session) -> None:
        owner = make_user(db_session).id
        due = due_todo(db_session, owner, NOW - timedelta(minutes=1))
        exactly_now = due_todo(db_session, owner, NOW)
        due_todo(db_session, owner, NOW + timedelta(seconds=1))  # not yet
        due_todo(db_session, owner, NOW - timedelta(minutes=1), complete=True)
        trashed = due_todo(db_session, owner, NOW - timedelta(minutes=1))
        remind(db_session, trashed, NOW - timedelta(minutes=1), deleted_at=NOW)
        too_late = due_todo(db_session, owner, NOW - LATE - timedelta(seconds=1))
        already = due_todo(db_session, owner, NOW - timedelta(minutes=2))
        remind(db_session, already, NOW - timedelta(minutes=2), reminder_sent_at=NOW - timedelta(minutes=1))

        token, ids = reminders.claim_due(db_session, now=NOW, max_late=LATE)

        assert sorted(ids) == sorted([due, exactly_now])
        assert too_late not in ids
        assert len(token) == 32

    def test_a_second_sweep_gets_nothing_while_the_claim_is_fresh(self, db_session: Session) -> None:
        owner = make_user(db_session).id
        todo_id = due_todo(db_session, owner, NOW - timedelta(minutes=1))

        first, ids = reminders.claim_due(db_session, now=NOW, max_late=LATE)
        _, again = reminders.claim_due(db_session, now=NOW + reminders.CLAIM_TIMEOUT, max_late=LATE)
        later, stale = reminders.claim_due(
            db_session, now=NOW + reminders.CLAIM_TIMEOUT + timedelta(seconds=1), max_late=LATE
        )

        assert ids == [todo_id]
        assert again == []
        assert stale == [todo_id] and later != first  # a claim gone stale is taken over

    def test_claims_in_batches_oldest_first(self, db_session: Session) -> None:
        owner = make_user(db_session).id
        ids = [due_todo(db_session, owner, NOW - timedelta(minutes=n)) for n in range(1, 6)]

        _, first = reminders.claim_due(db_session, now=NOW, max_late=LATE, limit=2)
        _, second = reminders.claim_due(db_session, now=NOW, max_late=LATE, limit=10)

        assert sorted(first) == sorted(ids[3:])  # the two that were due first
        assert sorted(first + second) == sorted(ids)


class TestDelivery:
    def test_the_claim_holder_loads_sends_and_stamps_once(self, db_session: Session) -> None:
        owner = make_user(db_session, email="ann@example.com").id
        todo_id = due_todo(db_session, owner, NOW - timedelta(seconds=5), title="Call mom")
        token, _ = reminders.claim_due(db_session, now=NOW, max_late=LATE)

        reminder = reminders.claimed(db_session, todo_id=todo_id, token=token)
        assert reminder is not None
        assert (reminder.title, reminder.email, reminder.remind_at) == (
            "Call mom",
            "ann@example.com",
            NOW - timedelta(seconds=5),
        )

        published: list[list[Any]] = []
        bind_publisher(db_session, published.append)
        assert reminders.mark_sent(db_session, reminder=reminder, token=token, now=NOW) is True
        assert sent_at(db_session, todo_id) == NOW
        assert reminders.claimed(db_session, todo_id=todo_id, token=token) is None
        assert reminders.mark_sent(db_session, reminder=reminder, token=token, now=NOW) is False
        (events,) = published  # one reminder.due, for the owner, announced once
        assert [(e["users"], e["message"]["type"], e["message"]["id"]) for e in events] == [
            ([owner], "reminder.due", todo_id)
        ]

    def test_another_token_or_a_completed_todo_gets_nothing(self, db_session: Session) -> None:
        owner = make_user(db_session).id
        todo_id = due_todo(db_session, owner, NOW - timedelta(seconds=5))
        token, _ = reminders.claim_due(db_session, now=NOW, max_late=LATE)
        reminder = reminders.claimed(db_session, todo_id=todo_id, token=token)
        assert reminder is not None

        assert reminders.claimed(db_session, todo_id=todo_id, token="0" * 32) is None
        db_session.execute(update(Todo).where(Todo.id == todo_id).values(complete=True))
        db_session.commit()
        assert reminders.claimed(db_session, todo_id=todo_id, token=token) is None
        assert reminders.mark_sent(db_session, reminder=reminder, token=token, now=NOW) is False


class TestOldestDue:
    def test_age_of_the_oldest_waiting_reminder(self, db_session: Session, engine: Engine) -> None:
        owner = make_user(db_session).id
        assert reminders.oldest_due_age(db_session, now=NOW, max_late=LATE) == 0.0
        due_todo(db_session, owner, NOW - timedelta(seconds=30))
        due_todo(db_session, owner, NOW - timedelta(seconds=90), complete=True)  # not waiting
        due_todo(db_session, owner, NOW + timedelta(seconds=90))  # not due

        assert reminders.oldest_due_age(db_session, now=NOW, max_late=LATE) == 30.0


class TestEmail:
    def reminder(self, **over: object) -> reminders.Reminder:
        values: dict[str, object] = {
            "todo_id": 7,
            "owner_id": 1,
            "title": "Pay rent",
            "due_date": date(2026, 12, 24),
            "due_time": time(17, 30),
            "remind_at": datetime(2026, 12, 24, 15, 30, tzinfo=UTC),
            "email": "ann@example.com",
            "timezone": "Europe/Berlin",
        }
        return reminders.Reminder(**{**values, **over})  # type: ignore[arg-type]

    def test_says_what_is_due_when_in_the_owner_s_zone(self) -> None:
        email = reminders.reminder_email(self.reminder(), public_url="https://todo.example.com")

        assert (email.to, email.subject) == ("ann@example.com", "Reminder: Pay rent")
        assert "Due: Thursday 24 December 2026 at 17:30 (Europe/Berlin)" in email.text
        assert "https://todo.example.com" in email.text

    def test_without_a_due_date_it_names_the_reminder_time_in_the_zone(self) -> None:
        email = reminders.reminder_email(self.reminder(due_date=None, due_time=None), public_url=None)

        assert "Thursday 24 December 2026 at 16:30 (Europe/Berlin)" in email.text
        assert "http" not in email.text
