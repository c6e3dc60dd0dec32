"""Reminders, time zones, calendar feeds and idempotent creates.

- users.timezone: the IANA zone pages and reminders read dates in ('UTC' for everyone so far).
- users.calendar_token: the secret of each user's calendar feed URL, filled in for every user.
- todos.due_time, todos.remind_at and the reminder's delivery state (claim, sent).
- idempotency_keys: a create's stored answer per user and Idempotency-Key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
# SQLite rebuilds a table to add a constraint; it must keep AUTOINCREMENT (ids never reused).
KEEP: dict[str, Any] = {"table_kwargs": {"sqlite_autoincrement": True}}
REMINDER_COLUMNS = ("remind_at", "reminder_claim", "reminder_claimed_at", "reminder_sent_at")


def _fill_calendar_tokens() -> None:
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM users"))]
    update = sa.text("UPDATE users SET calendar_token = :token WHERE id = :id")
    for user_id in ids:
        conn.execute(update, {"token": secrets.token_urlsafe(32), "id": user_id})


def upgrade() -> None:
    with op.batch_alter_table("users", **KEEP) as users:
        users.add_column(sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False))
        users.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
    _fill_calendar_tokens()
    with op.batch_alter_table("users", **KEEP) as users:
        users.alter_column("calendar_token", existing_type=sa.String(length=64), nullable=False)
        users.create_unique_constraint(op.f("uq_users_calendar_token"), ["calendar_token"])
    with op.batch_alter_table("todos", **KEEP) as todos:
        todos.add_column(sa.Column("due_time", sa.Time(), nullable=True))
        todos.add_column(sa.Column("remind_at", UTCDateTime(), nullable=True))
        todos.add_column(sa.Column("reminder_claim", sa.String(length=64), nullable=True))
        todos.add_column(sa.Column("reminder_claimed_at", UTCDateTime(), nullable=True))
        todos.add_column(sa.Column("reminder_sent_at", UTCDateTime(), nullable=True))
        todos.create_index("ix_todos_remind_at", ["remind_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotency_keys_user_id")),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("todos", **KEEP) as todos:
        todos.drop_index("ix_todos_remind_at")
        for name in ("due_time", *REMINDER_COLUMNS):
            todos.drop_column(name)
    with op.batch_alter_table("users", **KEEP) as users:
        users.drop_constraint(op.f("uq_users_calendar_token"), type_="unique")
        users.drop_column("calendar_token")
        users.drop_column("timezone")
