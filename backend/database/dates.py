"""Timestamps and dates as text, in one format whether the database or Python writes it.

The list endpoints send timestamps straight through as text: parsing 100 datetimes per
request only to print them again costs more than the query itself. So the database renders
them (`iso_utc`, `iso_date`, compiled below for SQLite, PostgreSQL and MariaDB/MySQL), and
rows the app has just written are put in the same form in Python (`utc_text`, `date_text`).
test/database/test_dates.py holds the two sides to the same text.
"""

from datetime import date, datetime, time

from sqlalchemy import String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# RFC 3339 in UTC with microseconds (`2026-12-24T08:30:00.000000Z`), and `YYYY-MM-DD`.
PG_UTC_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
PG_DATE_FORMAT = "YYYY-MM-DD"
MYSQL_UTC_FORMAT = "%Y-%m-%dT%H:%i:%s.%fZ"
MYSQL_DATE_FORMAT = "%Y-%m-%d"


class iso_utc(FunctionElement[str]):  # noqa: N801 (SQL function style)
    """A UTC timestamp column rendered by the database as RFC 3339 text (`…T…Z`)."""

    type = String()
    inherit_cache = True


class iso_date(FunctionElement[str]):  # noqa: N801
    """A DATE column rendered by the database as `YYYY-MM-DD` text (NULL stays NULL)."""

    type = String()
    inherit_cache = True


def utc_text(value: datetime | str) -> str:
    """A UTC datetime (as `utcnow()` makes) in `iso_utc`'s text; text passes through."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return value


def date_text(value: date | str | None) -> str | None:
    """A date in `iso_date`'s text; text and None pass through."""
    return value.isoformat() if isinstance(value, date) else value


def time_text(value: time | None) -> str | None:
    """A wall-clock time as `HH:MM` (how due times are written and read); None stays None."""
    return None if value is None else value.strftime("%H:%M")


def _fmt(compiler: SQLCompiler, pattern: str, kw: dict[str, object]) -> str:
    # A bound parameter, so no driver ever interprets the pattern's % signs.
    return str(compiler.process(literal(pattern, String()), **kw))


@compiles(iso_utc, "sqlite")
def _iso_utc_sqlite(element: iso_utc, compiler: SQLCompiler, **kw: object) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) by UTCDateTime.
    return f"replace({compiler.process(element.clauses, **kw)}, ' ', 'T') || 'Z'"


@compiles(iso_utc, "postgresql")
def _iso_utc_pg(element: iso_utc, compiler: SQLCompiler, **kw: object) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', {_fmt(compiler, PG_UTC_FORMAT, kw)})"


@compiles(iso_utc, "mysql")
def _iso_utc_mysql(element: iso_utc, compiler: SQLCompiler, **kw: object) -> str:
    return f"DATE_FORMAT({compiler.process(element.clauses, **kw)}, {_fmt(compiler, MYSQL_UTC_FORMAT, kw)})"


@compiles(iso_date, "sqlite")
def _iso_date_sqlite(element: iso_date, compiler: SQLCompiler, **kw: object) -> str:
    # Stored as 'YYYY-MM-DD' text already.
    return str(compiler.process(element.clauses, **kw))


@compiles(iso_date, "postgresql")
def _iso_date_pg(element: iso_date, compiler: SQLCompiler, **kw: object) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, {_fmt(compiler, PG_DATE_FORMAT, kw)})"


@compiles(iso_date, "mysql")
def _iso_date_mysql(element: iso_date, compiler: SQLCompiler, **kw: object) -> str:
    return f"DATE_FORMAT({compiler.process(element.clauses, **kw)}, {_fmt(compiler, MYSQL_DATE_FORMAT, kw)})"
