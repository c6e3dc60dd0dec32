"""On PostgreSQL and MariaDB a closed session is used again for a later unit of work
(database/request_scope.py), carrying nothing of the unit before it."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.database.outbox import record
from backend.database.session import Database, build_engine
from backend.test.factories import on_new_loop


def test_a_session_used_again_announces_nothing_of_the_unit_before(settings: Settings) -> None:
    db = Database(build_engine(settings), settings)
    if db.server is None:
        pytest.skip("SQLite's units run on two long-lived sessions of their own")
    published: list[list[Any]] = []
    db.publisher = published.append
    seen: list[Session] = []

    def left_pending(session: Session) -> None:  # an event recorded, never committed
        seen.append(session)
        record(session, {"type": "todo.created", "id": 1})

    def commits(session: Session) -> None:
        seen.append(session)
        session.execute(text("SELECT 1"))
        session.commit()

    async def both() -> None:
        await db.read(left_pending)
        await db.write(commits)

    try:
        on_new_loop(db, both)
    finally:
        db.dispose()

    assert seen[0] is seen[1]  # the same session, used again
    assert published == []  # the first unit's event died with it
