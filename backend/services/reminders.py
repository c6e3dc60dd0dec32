"""Reminders: find the due ones, claim each for one job, send it once, and say how late they run.

Delivery is in two steps so that any number of schedulers and workers send each reminder
once:

1. The sweep (every 15 s) claims due reminders: one `UPDATE … WHERE` that writes a fresh
   claim token on rows still unsent, open and unclaimed (or whose claim went stale), then
   reads back which rows carry its token. Two sweeps racing claim disjoint rows.
2. One `send_reminder` job per claimed row loads it only while it still carries that token,
   is open and unsent; sends the mail; then stamps `reminder_sent_at`. A retried job (the
   SMTP server refused) finds its own token and tries again; a job for a todo completed,
   deleted or re-timed meanwhile finds nothing and sends nothing.

A claim older than `CLAIM_TIMEOUT` (a worker died with the job, the broker lost it) is
claimed again by a later sweep. A reminder more than REMINDER_MAX_LATE_HOURS late is no
longer sent. The one case that can send twice is a worker dying between the SMTP server
accepting the mail and the stamp: at least once there, never silently lost.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from backend.core.zones import local
from backend.database.outbox import record
from backend.models import Todo, User
from backend.realtime.events import due_event
from backend.services.mail import Email

_TODOS = cast(Table, Todo.__table__)
_TODO = _TODOS.c
_USER = cast(Table, User.__table__).c
CLAIM_TIMEOUT = timedelta(minutes=15)
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class Reminder:
    """What a reminder mail says, and to whom."""

    todo_id: int
    owner_id: int
    title: str
    due_date: date | None
    due_time: time | None
    remind_at: datetime
    email: str
    timezone: str


def _due(now: datetime, max_late: timedelta) -> list[ColumnElement[bool]]:
    """Open todos (not in the trash) whose unsent reminder time lies in (now - max_late, now]."""
    return [
        _TODO.remind_at <= now,
        _TODO.remind_at > now - max_late,
        _TODO.reminder_sent_at.is_(None),
        _TODO.complete.is_(False),
        _TODO.deleted_at.is_(None),
    ]


def claim_due(
    session: Session, *, now: datetime, max_late: timedelta, limit: int = BATCH_SIZE
) -> tuple[str, list[int]]:
    """Claim up to `limit` due reminders for this sweep: its token and the todo ids it got. Commits."""
    token = uuid.uuid4().hex
    free = or_(_TODO.reminder_claim.is_(None), _TODO.reminder_claimed_at < now - CLAIM_TIMEOUT)
    conditions = [*_due(now, max_late), free]
    ids = list(session.scalars(select(_TODO.id).where(*conditions).order_by(_TODO.remind_at).limit(limit)))
    if not ids:
        session.commit()
        return token, []
    # Re-checked row by row as the UPDATE takes each lock: a row claimed by a sweep that
    # committed first no longer matches.
    session.execute(
        update(_TODOS).where(_TODO.id.in_(ids), *conditions).values(reminder_claim=token, reminder_claimed_at=now)
    )
    claimed = list(session.scalars(select(_TODO.id).where(_TODO.id.in_(ids), _TODO.reminder_claim == token)))
    session.commit()
    return token, claimed


def _held(todo_id: int, token: str) -> ColumnElement[bool]:
    return and_(
        _TODO.id == todo_id,
        _TODO.reminder_claim == token,
        _TODO.reminder_sent_at.is_(None),
        _TODO.complete.is_(False),
        _TODO.deleted_at.is_(None),
    )


def claimed(session: Session, *, todo_id: int, token: str) -> Reminder | None:
    """The reminder while `token` still holds it and it is open and unsent (its owner active); else None."""
    row = session.execute(
        select(
            _TODO.id,
            _TODO.owner_id,
            _TODO.title,
            _TODO.due_date,
            _TODO.due_time,
            _TODO.remind_at,
            _USER.email,
            _USER.timezone,
        )
        .join_from(_TODOS, User.__table__, _USER.id == _TODO.owner_id)
        .where(_held(todo_id, token), _USER.is_active.is_(True))
    ).first()
    return None if row is None else Reminder(*row)


def mark_sent(session: Session, *, reminder: Reminder, token: str, now: datetime) -> bool:
    """Stamp the reminder sent (only while `token` holds it) and announce `reminder.due` to
    the owner's open sockets; False if it was no longer ours. Commits."""
    result = session.execute(update(_TODOS).where(_held(reminder.todo_id, token)).values(reminder_sent_at=now))
    if result.rowcount:  # type: ignore[attr-defined]
        record(
            session, due_event(reminder.todo_id, reminder.owner_id, title=reminder.title, remind_at=reminder.remind_at)
        )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def oldest_due_age(session: Session, *, now: datetime, max_late: timedelta) -> float:
    """Seconds since the oldest reminder that is due and not yet sent was due (0 when none)."""
    oldest: datetime | None = session.execute(
        select(func.min(_TODO.remind_at)).where(*_due(now, max_late))
    ).scalar_one_or_none()
    if oldest is None:
        return 0.0
    return max(0.0, (now - oldest).total_seconds())


def reminder_email(reminder: Reminder, *, public_url: str | None) -> Email:
    """The reminder mail: the title, when it is due in the owner's zone, and a link when the app's URL is known."""
    lines = [f"Reminder: {reminder.title}", ""]
    if reminder.due_date is not None:
        due = reminder.due_date.strftime("%A %d %B %Y")
        if reminder.due_time is not None:
            due += f" at {reminder.due_time.strftime('%H:%M')} ({reminder.timezone})"
        lines.append(f"Due: {due}")
    else:
        at = local(reminder.remind_at, reminder.timezone).strftime("%A %d %B %Y at %H:%M")
        lines.append(f"You asked to be reminded on {at} ({reminder.timezone}).")
    if public_url:
        lines += ["", f"Your todos: {public_url}"]
    return Email(to=reminder.email, subject=f"Reminder: {reminder.title}", text="\n".join(lines) + "\n")
