"""Hot statements run straight on the driver give exactly what `session.execute` gives,
on the request drivers of every database (SQLite inline, asyncpg / asyncmy through
`Database.read` and `Database.write`), and fall back to it whenever they should."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from typing import Any, TypeVar, cast

import pytest
from sqlalchemy import Engine, Table, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.database import direct
from backend.database.session import Database
from backend.models import Todo, TodoList
from backend.services import counts
from backend.services import principal as principal_service
from backend.services import todos as todo_service
from backend.test.factories import Account, on_new_loop

T = TypeVar("T")
TODOS = cast(Table, Todo.__table__)
TODO = TODOS.c
NOW = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


@pytest.fixture
def database(engine: Engine, settings: Settings) -> Iterator[Database]:
    """The app's own way of running units: the async request driver on PostgreSQL/MariaDB."""
    db = Database(engine, settings)
    yield db
    db.dispose()


def run(db: Database, fn: Callable[[Session], T], *, write: bool = False) -> T:
    async def unit() -> T:
        return await (db.write(fn) if write else db.read(fn))

    return on_new_loop(db, unit)


def _inbox(session: Session, owner_id: int) -> int:
    inbox = int(session.execute(select(TodoList.id).where(TodoList.owner_id == owner_id)).scalar_one())
    session.rollback()  # SQLite: the fixture's session holds the write lock until it ends
    return inbox


def _values(owner_id: int, list_id: int, **over: Any) -> dict[str, Any]:
    return {
        "owner_id": owner_id,
        "list_id": list_id,
        "title": "Direct",
        "description": "",
        "priority": 2,
        "complete": True,
        "due_date": NOW.date(),
        "due_time": time(7, 30),
        "remind_at": None,
        "tags": "",
        "repeat": None,
        "position": 5,
        "created_by": "someone",
        "updated_by": "someone",
        "created_at": NOW,
        "updated_at": NOW,
        **over,
    }


def _load_params(user: Account, db_session: Session) -> dict[str, Any]:
    users = principal_service._USER
    key = db_session.execute(select(users.auth_key).where(users.id == user.id)).scalar_one()
    db_session.rollback()
    return {"actor_id": user.id, "actor_ver": 0, "actor_acc": key, "actor_jti": "none"}


def test_rows_match_sqlalchemys_on_the_request_driver(database: Database, db_session: Session, user: Account) -> None:
    inbox = _inbox(db_session, user.id)
    params = _load_params(user, db_session)

    def both(session: Session) -> tuple[Any, ...]:
        new_id = direct.inserted_id(session, todo_service._INSERT, _values(user.id, inbox))
        one = {"tid": new_id, "uid": user.id}
        return (
            new_id,
            direct.first_row(session, todo_service._ONE_OWNED, one),
            session.execute(todo_service._ONE_OWNED, one).first(),
            direct.first_row(session, principal_service._LOAD, params),
            session.execute(principal_service._LOAD, params).first(),
        )

    new_id, fast, slow, fast_user, slow_user = run(database, both, write=True)
    assert fast is not None and slow is not None
    assert todo_service.todo_row(fast) == todo_service.todo_row(slow)
    row = todo_service.todo_row(fast)
    assert (row["id"], row["complete"], row["due_time"], row["created_at"]) == (
        new_id,
        True,  # a bool on every database, not SQLite's 1
        "07:30",
        "2030-05-06T07:08:09.123456Z",
    )
    assert fast_user is not None and slow_user is not None
    assert tuple(fast_user) == tuple(slow_user)
    assert principal_service.principal_row(fast_user).inbox_id == inbox


def test_the_driver_path_is_the_one_taken(database: Database, db_session: Session, user: Account) -> None:
    params = _load_params(user, db_session)
    direct._PREPARED.clear()
    run(database, lambda session: direct.first_row(session, principal_service._LOAD, params))
    (entry,) = direct._PREPARED.values()
    assert entry[0] is principal_service._LOAD
    assert entry[2] is not None and entry[2].sql.startswith("SELECT")


Listener = Callable[..., Any]


def one_todo_with_listeners(database: Database, before: Listener, after: Listener, *, retval: bool = False) -> Any:
    """`first_row` of the one-todo statement (no such todo) with cursor listeners on the request engine."""
    engine = database.request_engine
    event.listen(engine, "before_cursor_execute", before, retval=retval)
    event.listen(engine, "after_cursor_execute", after)
    try:
        return run(database, lambda session: direct.first_row(session, todo_service._ONE_OWNED, {"tid": 1, "uid": 1}))
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def test_listeners_see_every_statement_on_the_driver_path(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    before: list[tuple[str, object, bool]] = []
    after: list[str] = []
    executed: list[object] = []

    def record_before(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, many: bool) -> None:
        before.append((statement, context, many))

    def record_after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        after.append(statement)

    session_execute = Session.execute

    def execute(self: Session, statement: Any, *args: Any, **kw: Any) -> Any:
        executed.append(statement)
        return session_execute(self, statement, *args, **kw)

    monkeypatch.setattr(Session, "execute", execute)
    assert one_todo_with_listeners(database, record_before, record_after) is None
    assert todo_service._ONE_OWNED not in executed  # listened to, yet still straight to the driver
    seen = [entry for entry in before if "FROM todos" in entry[0]]
    assert seen == [(seen[0][0], None, False)]
    assert [statement for statement in after if "FROM todos" in statement] == [seen[0][0]]


def test_a_listener_may_hand_back_another_statement(database: Database) -> None:
    ran: list[str] = []

    def rewrite(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> tuple[str, Any]:
        return statement.replace("SELECT", "SELECT /* rewritten */", 1), params

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        ran.append(statement)

    assert one_todo_with_listeners(database, rewrite, record, retval=True) is None
    assert [statement for statement in ran if "FROM todos" in statement][0].startswith("SELECT /* rewritten */")


def test_row_counts_and_missing_parameters(database: Database, db_session: Session, user: Account) -> None:
    params = {**_load_params(user, db_session), "added": 0, "count_slot": 0}
    assert run(database, lambda session: direct.row_count(session, counts._ADD_OWN, params), write=True) == 1
    wrong = {**params, "actor_ver": 99}
    assert run(database, lambda session: direct.row_count(session, counts._ADD_OWN, wrong), write=True) == 0
    missing = {name: value for name, value in params.items() if name != "actor_jti"}
    with pytest.raises(KeyError, match="actor_jti"):
        run(database, lambda session: direct.row_count(session, counts._ADD_OWN, missing), write=True)


def test_driver_errors_are_sqlalchemys(database: Database, user: Account) -> None:
    values = _values(user.id, 2**31 - 1)  # no such list: the foreign key refuses it

    with pytest.raises(IntegrityError):
        run(database, lambda session: direct.inserted_id(session, todo_service._INSERT, values), write=True)


def test_statements_it_cannot_run_go_through_sqlalchemy(database: Database, db_session: Session, user: Account) -> None:
    inbox = _inbox(db_session, user.id)
    ids = [direct.inserted_id(db_session, insert(TODOS), _values(user.id, inbox, title=f"t{n}")) for n in range(3)]
    db_session.commit()
    expanding = select(TODO.title).where(TODO.id.in_(ids)).order_by(TODO.id)
    rows = run(database, lambda session: direct.all_rows(session, expanding, {}))
    assert [tuple(row) for row in rows] == [("t0",), ("t1",), ("t2",)]
    assert [entry[2] for entry in direct._PREPARED.values() if entry[0] is expanding] == [None]
