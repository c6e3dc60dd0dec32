"""The todos table."""

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import TABLE_ARGS, Base, TimestampMixin, UTCDateTime, partial

if TYPE_CHECKING:
    from backend.models.user import User


class Todo(TimestampMixin, Base):
    __tablename__ = "todos"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority"),
        # One index per sort order the list endpoint offers, each led by the owner.
        Index("ix_todos_owner_created", "owner_id", "created_at", "id"),
        Index("ix_todos_owner_priority", "owner_id", "priority", "id"),
        Index("ix_todos_owner_due", "owner_id", "due_date", "id"),
        Index("ix_todos_owner_title", "owner_id", "title", "id"),
        Index("ix_todos_owner_complete", "owner_id", "complete", "created_at"),
        # The reminder sweep reads a range of remind_at (the last REMINDER_MAX_LATE_HOURS).
        Index("ix_todos_remind_at", "remind_at", **partial("remind_at IS NOT NULL")),
        # The trash: one owner's newest first, and the purge of everything past TRASH_DAYS.
        Index("ix_todos_owner_deleted", "owner_id", "deleted_at", "id", **partial("deleted_at IS NOT NULL")),
        Index("ix_todos_deleted_at", "deleted_at", **partial("deleted_at IS NOT NULL")),
        # A list's todos in their order, and its counts.
        Index("ix_todos_list_position", "list_id", "position", "id"),
        Index("ix_todos_list_complete", "list_id", "complete"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    priority: Mapped[int] = mapped_column(SmallInteger, default=3)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    # Wall-clock time in the owner's time zone; only set together with due_date.
    due_time: Mapped[time | None] = mapped_column(Time, default=None)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The reminder's delivery (services/reminders.py): a job claims it by writing its
    # message id and the moment, sends, then stamps reminder_sent_at. Setting a new
    # remind_at clears all three.
    reminder_claim: Mapped[str | None] = mapped_column(String(64), default=None)
    reminder_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Set when the owner deletes it: in the trash (invisible everywhere else) until
    # restored or purged TRASH_DAYS later. Admin deletes remove the row at once.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    # The list it belongs to; owner_id is always that list's owner.
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"))
    # Sort key within the list, ascending (services/positions.py); new todos go last.
    position: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Canonical tags, lower-case and sorted, stored as " a b " (services/tags.py), or "".
    tags: Mapped[str] = mapped_column(String(400), default="")
    # A repeat rule in services/repeats.py's canonical form ("weekly", "every 2 days"), or None.
    repeat: Mapped[str | None] = mapped_column(String(32), default=None)
    # Who created it and who changed it last (usernames: shown on shared lists).
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    updated_by: Mapped[str | None] = mapped_column(String(32), default=None)

    owner: Mapped["User"] = relationship(back_populates="todos", lazy="raise")
