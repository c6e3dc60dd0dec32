"""The todos table."""

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import TABLE_ARGS, Base, TimestampMixin

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
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    priority: Mapped[int] = mapped_column(SmallInteger, default=3)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date | None] = mapped_column(Date)

    owner: Mapped["User"] = relationship(back_populates="todos", lazy="raise")
