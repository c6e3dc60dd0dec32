"""One row per schedule (nightly clean-up, reminder sweep): when it fires next, claimed by compare-and-swap."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import MYSQL_TABLE_ARGS, Base, UTCDateTime


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The cron expression or interval the row was computed from; a changed setting
    # (CLEANUP_CRON) re-plans the next fire instead of keeping the old one.
    spec: Mapped[str] = mapped_column(String(100))
    next_fire_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Raised by every claim: `UPDATE … WHERE name = :name AND version = :seen` succeeds
    # for exactly one scheduler, however many race for the same fire.
    version: Mapped[int] = mapped_column(default=0)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    fired_by: Mapped[str | None] = mapped_column(String(100), default=None)
