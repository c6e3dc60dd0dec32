"""Hardening: ids never reused, tokens bound to their account, form drafts.

- users.auth_key: a random key per account that its tokens carry.
- SQLite: users and todos are rebuilt with AUTOINCREMENT (their rows, ids and indexes
  kept), so a deleted newest row's id is never handed out again. PostgreSQL sequences
  and InnoDB's persistent AUTO_INCREMENT already never go back.
- form_drafts: what a person typed into a form after their session had expired.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
TODO_INDEXES = {
    "ix_todos_owner_created": ["owner_id", "created_at", "id"],
    "ix_todos_owner_priority": ["owner_id", "priority", "id"],
    "ix_todos_owner_due": ["owner_id", "due_date", "id"],
    "ix_todos_owner_title": ["owner_id", "title", "id"],
    "ix_todos_owner_complete": ["owner_id", "complete", "created_at"],
}


def _users_columns(with_auth_key: bool) -> list[Any]:
    columns = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("username_key", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("first_name", sa.String(length=50), nullable=False),
        sa.Column("last_name", sa.String(length=50), nullable=False),
        sa.Column("phone_number", sa.String(length=16), nullable=True),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("hashed_password", sa.String(length=255), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("todo_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]
    if with_auth_key:
        columns.append(sa.Column("auth_key", sa.String(length=32), nullable=False))
    return columns


def _users_table(name: str, autoincrement: bool) -> None:
    op.create_table(
        name,
        *_users_columns(with_auth_key=autoincrement),
        sa.CheckConstraint("role IN ('user', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_users_email_key")),
        sa.UniqueConstraint("username_key", name=op.f("uq_users_username_key")),
        sqlite_autoincrement=autoincrement,
    )


def _todos_table(name: str, autoincrement: bool) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name=op.f("ck_todos_priority")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_todos_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_todos")),
        sqlite_autoincrement=autoincrement,
    )


def _fill_auth_keys(table: str) -> None:
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text(f"SELECT id FROM {table}"))]  # noqa: S608 (a constant table name; values bound) # nosec B608
    update = sa.text(f"UPDATE {table} SET auth_key = :key WHERE id = :id")  # noqa: S608 (a constant table name; values bound) # nosec B608
    for user_id in ids:
        conn.execute(update, {"key": secrets.token_hex(16), "id": user_id})


def _rebuild_sqlite(autoincrement: bool) -> None:
    """Copy users and todos into new tables, with AUTOINCREMENT and auth_key or without.

    Foreign keys are off while SQLite migrates (env.py), so dropping the old tables
    cascades nothing.
    """
    names = ", ".join(column.name for column in _users_columns(with_auth_key=False))
    _users_table("_users_new", autoincrement)  # upgrade: with auth_key, filled in afterwards
    if autoincrement:
        op.execute(f"INSERT INTO _users_new ({names}, auth_key) SELECT {names}, '' FROM users")  # constant column names # nosec B608
    else:
        op.execute(f"INSERT INTO _users_new ({names}) SELECT {names} FROM users")  # constant column names # nosec B608
    op.drop_table("users")
    op.rename_table("_users_new", "users")
    _todos_table("_todos_new", autoincrement)
    op.execute("INSERT INTO _todos_new SELECT * FROM todos")
    op.drop_table("todos")
    op.rename_table("_todos_new", "todos")
    for name, columns in TODO_INDEXES.items():
        op.create_index(name, "todos", columns)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(autoincrement=True)
    else:
        op.add_column("users", sa.Column("auth_key", sa.String(length=32), nullable=True))
    _fill_auth_keys("users")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("users", "auth_key", existing_type=sa.String(length=32), nullable=False)
    op.create_table(
        "form_drafts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_form_drafts")),
        **MYSQL,
    )
    op.create_index(op.f("ix_form_drafts_expires_at"), "form_drafts", ["expires_at"])


def downgrade() -> None:
    op.drop_table("form_drafts")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(autoincrement=False)
    else:
        op.drop_column("users", "auth_key")
