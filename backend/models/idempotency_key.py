"""Idempotency keys: a create's stored answer, so a retried request replays it instead of creating twice."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import TABLE_ARGS, Base, UTCDateTime


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # Which endpoint and which body the key was first used with (a SHA-256, hex).
    request_hash: Mapped[str] = mapped_column(String(64))
    # None while the first request is still in flight.
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    # The answer's Location header, when it had one (a created todo's URL).
    location: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Purged by the nightly clean-up after IDEMPOTENCY_HOURS.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
