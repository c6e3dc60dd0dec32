"""The trash: todos.deleted_at, with the indexes the trash listing and its purge read.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite may rebuild the table: it must keep AUTOINCREMENT (ids never reused).
KEEP: dict[str, Any] = {"table_kwargs": {"sqlite_autoincrement": True}}


def upgrade() -> None:
    with op.batch_alter_table("todos", **KEEP) as todos:
        todos.add_column(sa.Column("deleted_at", UTCDateTime(), nullable=True))
        todos.create_index("ix_todos_owner_deleted", ["owner_id", "deleted_at", "id"])
        todos.create_index("ix_todos_deleted_at", ["deleted_at"])


def downgrade() -> None:
    with op.batch_alter_table("todos", **KEEP) as todos:
        todos.drop_index("ix_todos_deleted_at")
        todos.drop_index("ix_todos_owner_deleted")
        todos.drop_column("deleted_at")
