"""Todo counts in rows of their own: todo_counts, a few rows per user, replaces users.todo_count.

Every write of a user added to users.todo_count, so each held the user's row locked until
it committed, and one user's concurrent creates ran one at a time. A user's count is now
the sum of their rows (models/todo_count.py); the old count goes into slot 0.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
# SQLite rebuilds the users table to drop a column: it must keep AUTOINCREMENT (ids never reused).
KEEP: dict[str, Any] = {"table_kwargs": {"sqlite_autoincrement": True}}
# The rows per user when this revision was written (models.COUNT_SLOTS may change later).
SLOTS = 8

_users = sa.table("users", sa.column("id", sa.Integer), sa.column("todo_count", sa.Integer))
_counts = sa.table(
    "todo_counts",
    sa.column("user_id", sa.Integer),
    sa.column("slot", sa.SmallInteger),
    sa.column("todo_count", sa.Integer),
)


def upgrade() -> None:
    op.create_table(
        "todo_counts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("todo_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "slot"),
        sqlite_with_rowid=False,  # the rows in the primary key's b-tree: one page per write
        **MYSQL,
    )
    for slot in range(SLOTS):
        count = _users.c.todo_count if slot == 0 else sa.literal(0)
        rows = sa.select(_users.c.id, sa.literal(slot), count)
        op.execute(sa.insert(_counts).from_select(["user_id", "slot", "todo_count"], rows))
    with op.batch_alter_table("users", **KEEP) as users:
        users.drop_column("todo_count")


def downgrade() -> None:
    with op.batch_alter_table("users", **KEEP) as users:
        users.add_column(sa.Column("todo_count", sa.Integer(), nullable=False, server_default="0"))
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(_counts.c.todo_count), 0))
        .where(_counts.c.user_id == _users.c.id)
        .scalar_subquery()
    )
    op.execute(sa.update(_users).values(todo_count=total))
    op.drop_table("todo_counts")
