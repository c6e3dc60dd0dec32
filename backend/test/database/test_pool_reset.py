"""MySQL/MariaDB connections go back to the pool without a second ROLLBACK, and never with
a transaction left open."""

from collections.abc import Iterator
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects.mysql.asyncmy import AsyncAdapt_asyncmy_connection
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolResetState

from backend.database.pool_reset import IN_TRANSACTION, _reset, open_transaction
from backend.database.session import build_engine
from backend.models import User
from backend.test.conftest import build_settings
from backend.test.factories import Account, state_of, todo_payload

AUTOCOMMIT_FLAG = 0x0002  # SERVER_STATUS_AUTOCOMMIT, set alongside or without IN_TRANS


class Driver:
    def __init__(self, status: object) -> None:
        self.server_status = status


class Record:
    def __init__(self, status: object) -> None:
        self.driver_connection = Driver(status)


class Connection:
    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def state(*, was_reset: bool = False, asyncio_safe: bool = True) -> PoolResetState:
    return PoolResetState(transaction_was_reset=was_reset, terminate_only=False, asyncio_safe=asyncio_safe)


@pytest.mark.parametrize(
    ("status", "is_open"),
    [(0, False), (AUTOCOMMIT_FLAG, False), (IN_TRANSACTION, True), (IN_TRANSACTION | AUTOCOMMIT_FLAG, True)],
)
def test_the_servers_status_says_whether_a_transaction_is_open(status: int, is_open: bool) -> None:
    assert open_transaction(Driver(status)) is is_open


@pytest.mark.parametrize("status", [None, "3"])
def test_an_unknown_status_counts_as_open(status: object) -> None:
    assert open_transaction(Driver(status)) is True
    assert open_transaction(object()) is True


@pytest.mark.parametrize(
    ("status", "reset_state", "rollbacks"),
    [
        (IN_TRANSACTION, state(), 1),
        (None, state(), 1),
        (0, state(), 0),
        (IN_TRANSACTION, state(was_reset=True), 0),  # SQLAlchemy ended it already
        (IN_TRANSACTION, state(asyncio_safe=False), 0),  # outside the event loop: no I/O
    ],
)
def test_the_reset_rolls_back_only_what_is_open(status: object, reset_state: PoolResetState, rollbacks: int) -> None:
    conn = Connection()
    _reset(conn, Record(status), reset_state)
    assert conn.rollbacks == rollbacks


@pytest.fixture
def mysql_engine(database_url: str) -> Iterator[Engine]:
    settings = build_settings(database_url)
    engine = build_engine(settings)
    if engine.dialect.name != "mysql":
        engine.dispose()
        pytest.skip("MySQL and MariaDB only: other drivers' rollbacks cost no round trip here")
    with engine.connect():  # the first connection's set-up has rollbacks of its own
        pass
    yield engine
    engine.dispose()


class Rollbacks:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: Any) -> None:
        self.count = 0
        original = cls.rollback

        def counted(conn: Any) -> Any:
            self.count += 1
            return original(conn)

        monkeypatch.setattr(cls, "rollback", counted)


class TestSyncEngine:
    def test_a_read_rolls_back_once_and_a_commit_not_at_all(
        self, mysql_engine: Engine, user: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rollbacks = Rollbacks(monkeypatch, pymysql.connections.Connection)
        with Session(mysql_engine) as session:
            assert session.scalar(select(User.username).where(User.id == user.id)) == user.username
        assert rollbacks.count == 1  # ends the read's transaction (and its metadata locks)

        rollbacks.count = 0
        with Session(mysql_engine) as session:
            session.execute(text("UPDATE users SET theme = 'dark' WHERE id = :id"), {"id": user.id})
            session.commit()
        assert rollbacks.count == 0

    def test_a_connection_returned_mid_transaction_is_rolled_back(self, mysql_engine: Engine, user: Account) -> None:
        raw = mysql_engine.raw_connection()
        cursor = raw.cursor()
        cursor.execute("UPDATE users SET theme = 'dark' WHERE id = %s", (user.id,))
        driver = raw.driver_connection
        assert open_transaction(driver)
        raw.close()  # back to the pool, uncommitted

        assert not open_transaction(driver)
        with mysql_engine.connect() as conn:
            theme = conn.execute(text("SELECT theme FROM users WHERE id = :id"), {"id": user.id}).scalar_one()
        assert theme != "dark"


class TestRequests:
    def test_a_read_request_rolls_back_once_and_a_write_not_at_all(
        self, app: FastAPI, client: TestClient, user: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        db = state_of(app).db
        if db.server is None or db.request_engine.dialect.name != "mysql":
            pytest.skip("MySQL and MariaDB requests only")
        assert client.get("/todos/", headers=user.headers).status_code == 200  # warm-up: connect
        rollbacks = Rollbacks(monkeypatch, AsyncAdapt_asyncmy_connection)

        assert client.get("/todos/", headers=user.headers).status_code == 200
        assert rollbacks.count == 1

        rollbacks.count = 0
        assert client.post("/todos/todos", json=todo_payload(), headers=user.headers).status_code == 201
        assert rollbacks.count == 0
