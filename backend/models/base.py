"""Declarative base, naming convention and the portable UTC timestamp type."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# MariaDB/MySQL: utf8mb4 for emoji, binary collation so comparisons behave as on
# PostgreSQL and SQLite (case-insensitivity is handled by the *_key columns).
MYSQL_TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
# Tables whose ids appear in tokens and URLs: an id is never handed out twice. SQLite
# needs AUTOINCREMENT for that (without it a deleted newest row's id comes back);
# PostgreSQL sequences and InnoDB's persistent AUTO_INCREMENT (MariaDB 10.2.4+) never go back.
TABLE_ARGS = {**MYSQL_TABLE_ARGS, "sqlite_autoincrement": True}


def partial(where: str) -> dict[str, Any]:
    """Index options: only rows matching `where` are in the index, on the databases that
    have partial indexes (SQLite, PostgreSQL); MariaDB indexes every row.

    A row outside it costs no index write (most todos have no reminder and are not in the
    trash), and SQLite, which keeps no statistics here, no longer takes an index on a
    column that is NULL in nearly every row for one that narrows a query down.
    """
    return {"sqlite_where": text(where), "postgresql_where": text(where)}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend, with microseconds on MySQL too."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
