"""Lists of todos and who they are shared with."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import MYSQL_TABLE_ARGS, TABLE_ARGS, Base, TimestampMixin, UTCDateTime, utcnow

ROLE_VIEWER = "viewer"
ROLE_EDITOR = "editor"


class TodoList(TimestampMixin, Base):
    """A named list; every todo belongs to exactly one. Each user has one `is_inbox` list."""

    __tablename__ = "lists"
    __table_args__ = (
        # Names are unique per owner, case-insensitively, so "@work" names one list.
        UniqueConstraint("owner_id", "name_key"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(String(50))
    color: Mapped[str | None] = mapped_column(String(7), default=None)
    # Where todos go when no list is named. Deleting it passes the role to the oldest other list.
    is_inbox: Mapped[bool] = mapped_column(Boolean, default=False)


class ListMember(Base):
    """Someone a list is shared with, and what they may do with it."""

    __tablename__ = "list_members"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'editor')", name="role"),
        # "Which lists are shared with me": every read of a member's todos starts here.
        Index("ix_list_members_user", "user_id", "list_id"),
        MYSQL_TABLE_ARGS,
    )

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
