"""The users table."""

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import TABLE_ARGS, Base, TimestampMixin

if TYPE_CHECKING:
    from backend.models.todo import Todo


def new_auth_key() -> str:
    return secrets.token_hex(16)


def new_calendar_token() -> str:
    """The secret part of a user's calendar feed URL (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


ROLE_USER = "user"
ROLE_ADMIN = "admin"


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'admin')", name="role"),
        CheckConstraint("theme IN ('system', 'light', 'dark')", name="theme"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Lower-cased copies carry the case-insensitive uniqueness on every backend.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    phone_number: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(8), default=ROLE_USER)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    # Bumped on every password change: tokens carry it, older ones stop matching.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    # Random per account and carried in its tokens, so a token names this account, not
    # merely an id (ids are never reused either: see TABLE_ARGS).
    auth_key: Mapped[str] = mapped_column(String(32), default=new_auth_key)
    # IANA zone name ("Europe/Berlin"): "today", due times and reminders are read in it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # GET /calendar/{calendar_token}.ics; rotating it makes the old URL 404.
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_calendar_token)
    # The pages' colour scheme: "system" follows prefers-color-scheme.
    theme: Mapped[str] = mapped_column(String(8), default="system", server_default="system")

    todos: Mapped[list["Todo"]] = relationship(
        back_populates="owner", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
