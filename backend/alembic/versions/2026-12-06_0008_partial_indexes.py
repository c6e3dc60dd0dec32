"""Partial indexes for reminders and the trash: only todos with a reminder, only trashed todos.

Nearly every todo has no reminder and is not in the trash, yet each was written into
ix_todos_remind_at, ix_todos_deleted_at and ix_todos_owner_deleted. On SQLite, which keeps
no statistics, `deleted_at IS NULL` also looked selective: the reminder sweep, the
/metrics reminder gauge and a sharer's list walked every live todo of every user through
ix_todos_deleted_at. SQLite and PostgreSQL now index only the rows those queries look
for; MariaDB has no partial indexes, and its indexes stay as they were.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> (columns, the rows it keeps)
INDEXES = {
    "ix_todos_remind_at": (["remind_at"], "remind_at IS NOT NULL"),
    "ix_todos_owner_deleted": (["owner_id", "deleted_at", "id"], "deleted_at IS NOT NULL"),
    "ix_todos_deleted_at": (["deleted_at"], "deleted_at IS NOT NULL"),
}


def _rebuild(*, partial: bool) -> None:
    if op.get_context().dialect.name not in ("sqlite", "postgresql"):
        return  # no partial indexes: unchanged
    for name, (columns, where) in INDEXES.items():
        op.drop_index(name, table_name="todos")
        rows = sa.text(where) if partial else None  # None: every row
        op.create_index(name, "todos", columns, sqlite_where=rows, postgresql_where=rows)


def upgrade() -> None:
    _rebuild(partial=True)


def downgrade() -> None:
    _rebuild(partial=False)
