"""Background jobs: the schedules table whose rows the schedulers claim.

- schedules: one row per schedule (nightly clean-up, reminder sweep). A scheduler fires
  a schedule only when its `UPDATE … WHERE version = :seen` changed the row, so any
  number of schedulers (or app processes in the embedded mode) fire each slot once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.String(length=100), nullable=False),
        sa.Column("next_fire_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_fired_at", UTCDateTime(), nullable=True),
        sa.Column("fired_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_schedules")),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("schedules")
