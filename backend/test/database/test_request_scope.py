"""Requests on PostgreSQL and MariaDB: an async driver, one connection checkout per request,
no liveness query per checkout, and a read retried once on a connection the server dropped."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from backend.database.drivers import async_url, sync_url
from backend.database.request_scope import ONE_STATEMENT_WRITES
from backend.database.session import Database, build_engine
from backend.models import Todo
from backend.test.conftest import build_settings
from backend.test.factories import Account, make_todo, on_new_loop, on_request_path, state_of, todo_payload
from backend.test.live import free_port


def test_asyncpg_only_options_stay_off_the_sync_side() -> None:
    named = "postgresql+asyncpg://u@h/db?prepared_statement_cache_size=0&sslmode=require"
    assert dict(sync_url(named).query) == {"sslmode": "require"}
    assert dict(async_url(named).query) == {"prepared_statement_cache_size": "0", "sslmode": "require"}


@pytest.mark.parametrize(
    ("named", "sync_driver", "async_driver"),
    [
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg", "postgresql+psycopg_async"),
        ("postgresql+asyncpg://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgresql://u@h/db", "postgresql", "postgresql+psycopg_async"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2", "postgresql+psycopg_async"),
        ("mysql://u@h/db", "mysql", "mysql+asyncmy"),
        ("mysql+pymysql://u@h/db", "mysql+pymysql", "mysql+asyncmy"),
        ("mysql+asyncmy://u@h/db", "mysql+pymysql", "mysql+asyncmy"),
        ("mysql+aiomysql://u@h/db", "mysql+pymysql", "mysql+aiomysql"),
        ("sqlite:///x.db", "sqlite", None),
    ],
)
def test_each_side_gets_its_driver(named: str, sync_driver: str, async_driver: str | None) -> None:
    assert sync_url(named).drivername == sync_driver
    assert sync_url(named).database == make_url(named).database
    if async_driver is None:
        with pytest.raises(ValueError, match="no async driver for sqlite"):
            async_url(named)
    else:
        assert async_url(named).drivername == async_driver


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://u@127.0.0.1:{port}/db",
        "postgresql+psycopg://u@127.0.0.1:{port}/db",
        "mysql+asyncmy://u@127.0.0.1:{port}/db",
    ],
)
def test_a_server_that_refuses_connections_is_an_operational_error(url: str) -> None:
    """What the 503 handler and the health check catch, whatever the driver raises."""
    settings = build_settings(url.format(port=free_port()))
    db = Database(build_engine(settings), settings)

    with pytest.raises(OperationalError):
        on_new_loop(db, lambda: db.read(_count_todos))


@pytest.fixture
def server_app(app: FastAPI, client: TestClient, user: Account) -> Engine:
    """The engine `app`'s requests use, after a warm-up request; servers only."""
    db = state_of(app).db
    if db.server is None:
        pytest.skip("SQLite requests run on two long-lived connections, not a pool")
    assert client.get("/todos/", headers=user.headers).status_code == 200
    return db.request_engine


class Checkouts:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []
        self.autocommit: list[bool] = []  # the driver connection's mode at each statement

    def checkout(self, *_args: Any) -> None:
        self.count += 1

    def statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if on_request_path():
            self.statements.append(" ".join(statement.split()))
            self.autocommit.append(bool(conn.connection.dbapi_connection.autocommit))


@pytest.fixture
def checkouts(server_app: Engine) -> Iterator[Checkouts]:
    seen = Checkouts()
    event.listen(server_app, "checkout", seen.checkout)
    event.listen(server_app, "before_cursor_execute", seen.statement)
    yield seen
    event.remove(server_app, "checkout", seen.checkout)
    event.remove(server_app, "before_cursor_execute", seen.statement)


class TestOneCheckoutPerRequest:
    def test_the_user_check_and_the_query_share_one_connection(
        self, client: TestClient, user: Account, checkouts: Checkouts
    ) -> None:
        created = client.post("/todos/todos", json=todo_payload(title="one checkout"), headers=user.headers)
        assert created.status_code == 201
        assert checkouts.count == 1
        todo_id = created.json()["id"]

        # (method, path, body, status, statements at least): the user check, then the query;
        # one todo, and on PostgreSQL an unfiltered page, are read with the check
        # (services/signed_in.py).
        for method, path, body, status, statements in [
            ("GET", "/todos/?complete=false", None, 200, 2),
            ("GET", "/todos/", None, 200, 1),
            ("GET", f"/todos/{todo_id}", None, 200, 1),
            ("PUT", f"/todos/todo/{todo_id}", todo_payload(title="still one"), 200, 2),
            ("DELETE", f"/todos/todo/{todo_id}", None, 204, 2),
        ]:
            checkouts.count = 0
            checkouts.statements.clear()
            response = client.request(method, path, json=body, headers=user.headers)
            assert response.status_code == status, response.text
            assert checkouts.count == 1, (method, path)
            assert len(checkouts.statements) >= statements, checkouts.statements

    def test_no_liveness_query_runs_per_checkout(
        self, server_app: Engine, client: TestClient, user: Account, checkouts: Checkouts
    ) -> None:
        for _ in range(3):
            assert client.get("/todos/", headers=user.headers).status_code == 200
        assert checkouts.count == 3
        assert not [s for s in checkouts.statements if s.upper().startswith("SELECT 1")]
        assert server_app.pool._pre_ping is False  # noqa: SLF001 (what the pool was built with)


class TestTurns:
    def test_every_request_gives_its_turn_back_whatever_it_answers(
        self, app: FastAPI, server_app: Engine, client: TestClient, user: Account
    ) -> None:
        server = state_of(app).db.server
        assert server is not None
        for method, path, body, status in [
            ("GET", "/todos/", None, 200),
            ("GET", "/todos/999999", None, 404),
            ("POST", "/todos/todos", {"title": ""}, 422),
            ("POST", "/todos/todos", todo_payload(), 201),
            ("GET", "/todos/", None, 401),
        ]:
            headers = user.headers if status != 401 else {}
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == status, (path, response.text)
            assert server.turns.borrowed_tokens == 0, path

        assert server.turns.total_tokens == state_of(app).settings.DB_POOL_SIZE + state_of(app).settings.DB_MAX_OVERFLOW


class TestTransactions:
    def test_reads_skip_begin_and_rollback_on_postgresql_and_writes_keep_their_transaction(
        self, server_app: Engine, client: TestClient, user: Account, checkouts: Checkouts, db_session: Session
    ) -> None:
        if server_app.dialect.name != "postgresql":
            pytest.skip("MySQL drivers begin transactions implicitly: reads keep them")
        checkouts.autocommit.clear()
        assert client.post("/lists/", json={"name": "Elsewhere"}, headers=user.headers).status_code == 201
        assert checkouts.autocommit and not any(checkouts.autocommit)  # a write of its own: a transaction

        checkouts.autocommit.clear()
        assert client.get("/todos/", params={"complete": "false"}, headers=user.headers).status_code == 200
        assert checkouts.autocommit == [True, True]  # the user check and the query, no BEGIN

    @pytest.mark.parametrize(
        ("method", "change", "one_statement", "added"),
        [
            ("PUT", todo_payload(title="After"), True, 0),
            ("PATCH", {"title": "After"}, True, 0),
            ("PATCH", {"complete": True}, False, 1),  # a repeating todo's next occurrence
            ("PATCH", {"list_id": "other"}, False, 0),  # a move: two count rows too
        ],
        ids=["put", "patch", "completing-a-repeating-todo", "moving-to-another-list"],
    )
    def test_a_change_of_one_todo_is_its_update_alone_in_autocommit_on_postgresql(
        self,
        server_app: Engine,
        client: TestClient,
        user: Account,
        checkouts: Checkouts,
        db_session: Session,
        method: str,
        change: dict[str, Any],
        one_statement: bool,
        added: int,
    ) -> None:
        if server_app.dialect.name != "postgresql":
            pytest.skip("MySQL drivers begin transactions implicitly: the write keeps its transaction")
        todo = make_todo(db_session, user.id, title="Before", repeat="daily", due_date=date(2030, 1, 1))
        if change.get("list_id") == "other":
            other = client.post("/lists/", json={"name": "Other"}, headers=user.headers)
            change = {"list_id": other.json()["id"]}
        before = _count_todos(db_session)
        checkouts.autocommit.clear()
        checkouts.statements.clear()

        response = client.request(method, f"/todos/todo/{todo['id']}", json=change, headers=user.headers)

        assert response.status_code == 200, response.text
        if one_statement:  # the user check with the todo, then the guarded UPDATE: no BEGIN, no COMMIT
            assert checkouts.autocommit == [True, True], checkouts.statements
            assert checkouts.statements[1].startswith("UPDATE todos"), checkouts.statements
        else:  # the user check in autocommit; the write in a transaction of its own
            assert checkouts.autocommit[0] and not any(checkouts.autocommit[1:]), checkouts.statements
        db_session.expire_all()
        assert _count_todos(db_session) == before + added

    def test_a_create_is_one_statement_in_autocommit_on_postgresql(
        self, server_app: Engine, client: TestClient, user: Account, checkouts: Checkouts, db_session: Session
    ) -> None:
        if server_app.dialect.name not in ONE_STATEMENT_WRITES:
            pytest.skip("the count's UPDATE and the INSERT are two statements here, in one transaction")
        before = _count_todos(db_session)
        created = client.post("/todos/todos", json=todo_payload(), headers=user.headers)
        assert created.status_code == 201
        # The user check, then the INSERT with the count's UPDATE in its WITH: no BEGIN, no COMMIT.
        assert checkouts.autocommit == [True, True], checkouts.statements
        assert checkouts.statements[1].startswith("WITH counted AS (UPDATE todo_counts")
        db_session.expire_all()
        assert _count_todos(db_session) == before + 1
        listed = client.get("/todos/", headers=user.headers)
        assert listed.headers["X-Total-Count"] == str(before + 1)  # counted with it

        checkouts.autocommit.clear()
        keyed = client.post(
            "/todos/todos", json=todo_payload(), headers={**user.headers, "Idempotency-Key": "one-transaction"}
        )
        assert keyed.status_code == 201
        assert checkouts.autocommit and not any(checkouts.autocommit)  # its stored answer: a transaction

    def test_a_create_after_the_session_ended_writes_nothing(
        self, server_app: Engine, client: TestClient, user: Account, db_session: Session
    ) -> None:
        before = _count_todos(db_session)
        assert client.post("/auth/logout", headers=user.headers).status_code in (200, 204)

        refused = client.post("/todos/todos", json=todo_payload(), headers=user.headers)

        assert refused.status_code == 401
        db_session.expire_all()
        assert _count_todos(db_session) == before


def _drop_app_connections(engine: Engine) -> int:
    """End every other session on the test database, as a server restart or a proxy would."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
            return len(rows)
        ids = conn.execute(
            text("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()")
        ).scalars()
        killed = 0
        for session_id in list(ids):
            conn.exec_driver_sql(f"KILL {int(session_id)}")
            killed += 1
        return killed


def _count_todos(session: Session) -> int:
    return len(session.execute(select(Todo.id)).all())


class TestDroppedConnections:
    def test_a_read_is_retried_on_a_fresh_connection(
        self, server_app: Engine, engine: Engine, client: TestClient, user: Account
    ) -> None:
        assert _drop_app_connections(engine) >= 1

        response = client.get("/todos/", headers=user.headers)

        assert response.status_code == 200, response.text
        assert client.post("/todos/todos", json=todo_payload(), headers=user.headers).status_code == 201

    def test_a_write_is_not_retried_and_the_next_one_goes_through(
        self, app: FastAPI, server_app: Engine, engine: Engine, client: TestClient
    ) -> None:
        db = state_of(app).db
        calls: list[int] = []

        def write(session: Session) -> int:
            calls.append(1)
            return _count_todos(session)

        assert client.portal is not None
        assert _drop_app_connections(engine) >= 1

        with pytest.raises(DBAPIError) as raised:
            client.portal.call(lambda: db.write(write))

        assert raised.value.connection_invalidated
        assert calls == [1]  # run once, not again
        assert client.portal.call(lambda: db.write(write)) == 0
        assert client.portal.call(lambda: db.read(_count_todos)) == 0
