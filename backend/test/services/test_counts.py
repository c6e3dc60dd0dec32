"""Each user's todo count, kept in several rows (services/counts.py, models/todo_count.py)."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from backend.models import COUNT_SLOTS, TodoCount
from backend.schemas.todos import TodoCreate, TodoQuery
from backend.services import counts
from backend.services import todos as todo_service
from backend.test.factories import count_todos, counted_todos, make_todo, make_user, principal_of, todo_payload

LOCK_WAIT_SECONDS = 3


def rows_of(session: Session, user_id: int) -> dict[int, int]:
    session.expire_all()
    found = session.execute(select(TodoCount.slot, TodoCount.todo_count).where(TodoCount.user_id == user_id))
    return {row.slot: row.todo_count for row in found}


def listed_total(session: Session, user_id: int) -> int:
    """The unfiltered listing's total (what X-Total-Count says), which reads the kept count."""
    _rows, total = todo_service.list_visible(session, principal=principal_of(session, user_id), query=TodoQuery())
    return total


def slots_in_turn(monkeypatch: pytest.MonkeyPatch, *slots: int) -> None:
    picks: Iterator[int] = iter(slots)
    monkeypatch.setattr(counts, "_slot", lambda: next(picks))


class TestCountRows:
    def test_a_new_user_starts_with_every_row_at_zero(self, db_session: Session) -> None:
        user = make_user(db_session)

        assert rows_of(db_session, user.id) == dict.fromkeys(range(COUNT_SLOTS), 0)
        assert listed_total(db_session, user.id) == 0

    def test_writes_land_in_the_row_picked_and_the_sum_is_the_live_count(
        self, db_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        user = make_user(db_session)
        slots_in_turn(monkeypatch, 0, 3, 3, 7, 5)
        todos = [make_todo(db_session, user.id) for _ in range(4)]

        todo_service.delete_visible(db_session, principal=principal_of(db_session, user.id), todo_id=todos[0]["id"])

        assert rows_of(db_session, user.id) == {**dict.fromkeys(range(COUNT_SLOTS), 0), 0: 1, 3: 2, 7: 1, 5: -1}
        assert counted_todos(db_session, user.id) == count_todos(db_session, user.id) == 3
        assert listed_total(db_session, user.id) == 3

    def test_a_create_does_not_wait_for_a_write_holding_another_row(
        self, engine: Engine, db_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if engine.dialect.name == "sqlite":
            pytest.skip("SQLite takes one write lock for the whole database")
        user = make_user(db_session)
        principal = principal_of(db_session, user.id)
        slots_in_turn(monkeypatch, 1)
        with engine.connect() as holder, engine.connect() as writer:
            held = (TodoCount.user_id == user.id) & (TodoCount.slot == 0)
            holder.execute(update(TodoCount).where(held).values(todo_count=TodoCount.todo_count + 1))
            # Past this wait the create fails instead of passing: a lock on its row would show.
            if engine.dialect.name == "postgresql":
                writer.exec_driver_sql(f"SET lock_timeout = '{LOCK_WAIT_SECONDS}s'")
            else:
                writer.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {LOCK_WAIT_SECONDS}")
            writer.commit()
            try:
                with Session(writer, expire_on_commit=False, autoflush=False) as session:
                    data = TodoCreate.model_validate(todo_payload())
                    todo = todo_service.create(session, principal=principal, data=data)
            finally:
                writer.invalidate()  # the wait setting goes with the connection
            holder.rollback()

        assert count_todos(db_session, user.id) == 1
        assert rows_of(db_session, user.id)[1] == 1
        assert todo["owner_id"] == user.id
