"""SQLite's plans for the queries that once read every live todo of every user.

SQLite keeps no statistics here, so it took `deleted_at IS NULL` (true of nearly every
row) for a narrow index lookup: the reminder sweep and the /metrics reminder gauge, a
sharer's list and a filtered count walked all live todos through ix_todos_deleted_at.
With that index partial and a sharer's lists as a list of ids, each query reads only
its own rows (backend/models/todo.py, services/access.py).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.sql import Select

from backend.models import Todo
from backend.services import reminders
from backend.services.todos import _list_statements, _Shape

PARAMS = {"uid": 1, "limit": 50, "offset": 0, "complete": True, "lid": 1}


@pytest.fixture
def sqlite_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner without statistics; the servers plan with theirs")
    return engine


def plan(engine: Engine, statement: Select[Any], params: dict[str, Any]) -> str:
    compiled = statement.compile(dialect=engine.dialect)
    given = (params.get(name, compiled.params[name]) for name in compiled.positiontup or ())
    values = tuple(str(value) if isinstance(value, datetime) else value for value in given)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", values).all()
    return " | ".join(row[3] for row in rows)


def shape(*, complete: bool = False, shares: bool = False) -> _Shape:
    return _Shape("-created_at", complete, False, False, False, 0, None, shares)


def test_the_reminder_gauge_reads_only_todos_with_a_reminder(sqlite_engine: Engine) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    due = select(func.min(Todo.remind_at)).where(*reminders._due(now, timedelta(hours=24)))

    found = plan(sqlite_engine, due, {})

    assert "USING INDEX ix_todos_remind_at" in found, found


def test_a_sharers_list_reads_their_todos_and_their_shared_lists_by_index(sqlite_engine: Engine) -> None:
    page, count = _list_statements(shape(shares=True))

    for statement in (page, count):
        found = plan(sqlite_engine, statement, PARAMS)
        assert "MULTI-INDEX OR" in found, found
        assert "SCAN todos" not in found and "ix_todos_deleted_at" not in found, found


def test_a_filtered_count_reads_the_owners_matching_todos(sqlite_engine: Engine) -> None:
    _, count = _list_statements(shape(complete=True))

    found = plan(sqlite_engine, count, PARAMS)

    assert "USING INDEX ix_todos_owner_complete" in found, found
