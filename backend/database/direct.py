"""The hottest statements, straight to the driver: compiled once per dialect, run on the
unit of work's own connection.

`session.execute(statement, params)` spends most of its time around the statement, not in
it: a cache key built by walking the statement, parameter and result objects, events,
a `Result` wrapping the rows. For the few statements every request runs (the user check,
one todo, a page of todos, the guarded UPDATE) that was 70 µs a statement on SQLite,
against 13 µs for the driver's own `cursor.execute` (docs/performance.md, issue 12).

Here SQLAlchemy still does what makes it one code path for every database: the dialect
compiles the statement (its SQL text, placeholders and casts) and its types convert
values both ways (bind and result processors). What is skipped is the per-execution
bookkeeping. The statement runs on `session.connection()`, so it is inside the unit's
transaction exactly as `session.execute` would be; a driver error goes through
SQLAlchemy's own handling (wrapped, a dropped connection invalidated and marked, so the
callers' 503s and retries see what they always saw).

Cursor-execute listeners (tracing's statement spans, the tests that count statements)
are called around the driver's `cursor.execute` as SQLAlchemy calls them: each
`before_cursor_execute` may hand back another statement and parameters, and a driver
error reaches `handle_error`. The execution context they are given is None, as it is for
some of SQLAlchemy's own statements. When the statement or driver needs more than this
path does (named placeholders, expanding IN lists, post-compile parameters), it goes
through `session.execute` instead: the same statement, the same rows.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import ValuesBase

Processor = Callable[[Any], Any] | None
_MISSING = object()


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One statement as one dialect runs it."""

    sql: str
    # (name, default maker, default, bind processor) per positional placeholder, in order.
    binds: tuple[tuple[str, Callable[[Any], Any] | None, Any, Processor], ...]
    # (column index, result processor) where the driver's value needs converting.
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    # An INSERT whose new id comes back as a row (RETURNING), not as the cursor's lastrowid.
    returns_id: bool = False


# Keyed by statement and dialect identity and, for INSERT/UPDATE, the parameter names
# (they choose the SET columns); the value keeps both objects alive, so ids are never reused.
_Key = tuple[int, int, frozenset[str] | None]
_PREPARED: dict[_Key, tuple[Executable, Dialect, _Prepared | None]] = {}


def _prepare(statement: Executable, dialect: Dialect, keys: frozenset[str] | None) -> _Prepared | None:
    """Compile `statement` for `dialect`, or None when only `session.execute` can run it."""
    if not dialect.positional:
        return None
    compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else sorted(keys))  # type: ignore[attr-defined]
    if "__[POSTCOMPILE" in compiled.string or compiled.literal_execute_params or compiled.post_compile_params:
        return None
    # Columns the statement sets from their Python defaults (an `onupdate=utcnow`, say)
    # when the parameters leave them out: made here as SQLAlchemy's execution would.
    made: dict[str, Callable[[Any], Any]] = {}
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.onupdate if column in compiled.update_prefetch else column.default
        if default is None or not (default.is_scalar or default.is_callable):
            return None
        made[column.key] = default.arg if default.is_callable else _constant(default.arg)
    binds = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds.append((name, made.get(name), _MISSING if bind.required else bind.value, processor))
    results = []
    for index, column in enumerate(getattr(statement, "selected_columns", ())):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            results.append((index, processor))
    returning = compiled.effective_returning or () if compiled.isinsert else ()
    if len(returning) > 1:
        return None  # RETURNING more than the new id: SQLAlchemy sorts the columns out
    returns_id = bool(returning)
    return _Prepared(compiled.string, tuple(binds), tuple(results), returns_id)


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _context: value


def _prepared(statement: Executable, dialect: Dialect, params: Mapping[str, Any]) -> _Prepared | None:
    keys = frozenset(params) if isinstance(statement, ValuesBase) else None
    key = (id(statement), id(dialect), keys)
    entry = _PREPARED.get(key)
    if entry is None:
        entry = _PREPARED[key] = (statement, dialect, _prepare(statement, dialect, keys))
    return entry[2]


def _values(prepared: _Prepared, params: Mapping[str, Any]) -> tuple[Any, ...]:
    values = []
    for name, make, default, processor in prepared.binds:
        if name in params:
            value = params[name]
        elif make is not None:
            value = make(None)  # SQLAlchemy's wrapper of a default function; it takes no context here
        elif default is _MISSING:
            raise KeyError(f"no value for the bound parameter {name!r}")
        else:
            value = default
        values.append(value if processor is None else processor(value))
    return tuple(values)


def _listened(conn: Connection) -> bool:
    dispatch = conn.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


def _run(session: Session, statement: Executable, params: Mapping[str, Any], *, fetch: str) -> Any:
    """What `fetch` names ("rows", "count" or "id") of running `statement`; None to fall
    back to `session.execute`."""
    conn = session.connection()
    prepared = _prepared(statement, conn.dialect, params)
    if prepared is None:
        return None
    sql, values = prepared.sql, _values(prepared, params)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    listened = _listened(conn)
    try:
        if listened:  # as Connection._exec_single_context calls them (no execution context here)
            for listener in conn.dispatch.before_cursor_execute:
                sql, values = listener(conn, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        if listened:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, values, None, False)
        if fetch == "count":
            return cursor.rowcount
        if fetch == "id":
            return cursor.fetchone()[0] if prepared.returns_id else cursor.lastrowid  # type: ignore[index]
        rows = cursor.fetchall()
    except Exception as exc:  # noqa: BLE001 — translated (and a dead connection invalidated) by SQLAlchemy
        conn._handle_dbapi_exception(exc, sql, values, cursor, None)  # noqa: SLF001
    finally:
        cursor.close()
    if not prepared.results:
        return rows
    converted = []
    for row in rows:
        columns = list(row)
        for index, processor in prepared.results:
            columns[index] = processor(columns[index])
        converted.append(columns)
    return converted


def all_rows(session: Session, statement: Executable, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """Every row `statement` (a SELECT) returns, each a sequence of its column values."""
    rows = _run(session, statement, params, fetch="rows")
    return session.execute(statement, params).all() if rows is None else rows


def first_row(session: Session, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any] | None:
    """The row `statement` (a SELECT of at most one row) returns, or None."""
    rows = all_rows(session, statement, params)
    return rows[0] if rows else None


def row_count(session: Session, statement: Executable, params: Mapping[str, Any]) -> int:
    """How many rows `statement` (an UPDATE or DELETE) matched."""
    count = _run(session, statement, params, fetch="count")
    if count is None:
        count = session.execute(statement, params).rowcount  # type: ignore[attr-defined]
    return int(count)


def inserted_id(session: Session, statement: Executable, params: Mapping[str, Any]) -> int:
    """Run `statement` (an INSERT of one row) and return the new row's primary key."""
    new_id = _run(session, statement, params, fetch="id")
    if new_id is None:
        (new_id,) = session.execute(statement, params).inserted_primary_key  # type: ignore[attr-defined]
    return int(new_id)
