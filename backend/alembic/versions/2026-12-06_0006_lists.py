"""Lists, sharing, tags, repeats, positions and the theme.

- lists: every user gets an "Inbox"; every existing todo moves into its owner's Inbox, in
  creation order (position = id) and marked as created by its owner.
- list_members: who a list is shared with, as viewer or editor.
- todos.list_id, position, tags, repeat, created_by, updated_by; users.theme.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime, utcnow

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
# SQLite rebuilds a table to add a constraint; it must keep AUTOINCREMENT (ids never reused).
KEEP: dict[str, Any] = {"table_kwargs": {"sqlite_autoincrement": True}}

_users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
_lists = sa.table(
    "lists",
    sa.column("id", sa.Integer),
    sa.column("owner_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("is_inbox", sa.Boolean),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
_todos = sa.table(
    "todos",
    sa.column("id", sa.Integer),
    sa.column("owner_id", sa.Integer),
    sa.column("list_id", sa.Integer),
    sa.column("position", sa.BigInteger),
    sa.column("created_by", sa.String),
)


def _create_tables() -> None:
    op.create_table(
        "lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_key", sa.String(length=50), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("is_inbox", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_lists_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sa.UniqueConstraint("owner_id", "name_key", name=op.f("uq_lists_owner_id")),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    op.create_table(
        "list_members",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'editor')", name=op.f("ck_list_members_role")),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_list_members_list_id_lists"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_list_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("list_id", "user_id", name=op.f("pk_list_members")),
        **MYSQL,
    )
    op.create_index("ix_list_members_user", "list_members", ["user_id", "list_id"])


def _fill_inboxes() -> None:
    """An Inbox for every user, and every todo moved into its owner's."""
    now = utcnow()
    columns = ["owner_id", "name", "name_key", "is_inbox", "created_at", "updated_at"]
    users = sa.select(
        _users.c.id,
        sa.literal("Inbox"),
        sa.literal("inbox"),
        sa.true(),
        sa.literal(now, UTCDateTime()),
        sa.literal(now, UTCDateTime()),
    )
    op.execute(_lists.insert().from_select(columns, users))
    inbox = (
        sa.select(_lists.c.id)
        .where(_lists.c.owner_id == _todos.c.owner_id, _lists.c.is_inbox.is_(True))
        .scalar_subquery()
    )
    owner = sa.select(_users.c.username).where(_users.c.id == _todos.c.owner_id).scalar_subquery()
    op.execute(_todos.update().values(list_id=inbox, position=_todos.c.id, created_by=owner))


def upgrade() -> None:
    _create_tables()
    with op.batch_alter_table("users", **KEEP) as users:
        users.add_column(sa.Column("theme", sa.String(length=8), server_default="system", nullable=False))
        users.create_check_constraint(op.f("ck_users_theme"), "theme IN ('system', 'light', 'dark')")
    with op.batch_alter_table("todos", **KEEP) as todos:
        todos.add_column(sa.Column("list_id", sa.Integer(), nullable=True))
        todos.add_column(sa.Column("position", sa.BigInteger(), server_default="0", nullable=False))
        todos.add_column(sa.Column("tags", sa.String(length=400), server_default="", nullable=False))
        todos.add_column(sa.Column("repeat", sa.String(length=32), nullable=True))
        todos.add_column(sa.Column("created_by", sa.String(length=32), nullable=True))
        todos.add_column(sa.Column("updated_by", sa.String(length=32), nullable=True))
    _fill_inboxes()
    with op.batch_alter_table("todos", **KEEP) as todos:
        todos.alter_column("list_id", existing_type=sa.Integer(), nullable=False)
        # The default only filled existing rows; the app always writes tags.
        todos.alter_column("tags", existing_type=sa.String(length=400), existing_nullable=False, server_default=None)
        todos.create_foreign_key(op.f("fk_todos_list_id_lists"), "lists", ["list_id"], ["id"], ondelete="CASCADE")
        todos.create_index("ix_todos_list_position", ["list_id", "position", "id"])
        todos.create_index("ix_todos_list_complete", ["list_id", "complete"])


def downgrade() -> None:
    with op.batch_alter_table("todos", **KEEP) as todos:
        # The foreign key first: MariaDB will not drop an index a foreign key uses.
        todos.drop_constraint(op.f("fk_todos_list_id_lists"), type_="foreignkey")
        todos.drop_index("ix_todos_list_complete")
        todos.drop_index("ix_todos_list_position")
        for column in ("updated_by", "created_by", "repeat", "tags", "position", "list_id"):
            todos.drop_column(column)
    with op.batch_alter_table("users", **KEEP) as users:
        users.drop_constraint(op.f("ck_users_theme"), type_="check")
        users.drop_column("theme")
    op.drop_table("list_members")
    op.drop_table("lists")
