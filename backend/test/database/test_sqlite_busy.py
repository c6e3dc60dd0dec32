"""SQLite with its write lock held by another process (a backup, the CLI, another app).

Reads and /health go on answering while a write waits for the lock (asleep, off the
event loop's back); after SQLITE_BUSY_TIMEOUT_MS the write is a 503 "Database busy, try
again" with Retry-After, and nothing of it is written.
"""

import sqlite3
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import DatabaseBusy
from backend.database.session import LATER_BEGIN_WAIT, Database, build_engine
from backend.test.conftest import ClientFactory
from backend.test.factories import Account, on_new_loop

BUSY_MS = 1500


@pytest.fixture
def foreign_lock(settings: Settings) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE) until the test ends."""
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
    conn = sqlite3.connect(str(url.database), isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


@pytest.fixture
def busy_client(client_factory: ClientFactory) -> TestClient:
    client = client_factory(SQLITE_BUSY_TIMEOUT_MS=BUSY_MS)
    assert client.get("/health").status_code == 200  # connections open before the lock is taken
    return client


class TestForeignWriteLock:
    def test_reads_go_on_while_a_write_waits_and_the_write_is_503(
        self, busy_client: TestClient, user: Account, foreign_lock: sqlite3.Connection, db_session: Session
    ) -> None:
        answers: list[object] = []
        writer = threading.Thread(
            target=lambda: answers.append(busy_client.post("/todos/todos", json={"title": "x"}, headers=user.headers))
        )
        writer.start()

        reads = [busy_client.get(path, headers=user.headers).status_code for path in ["/health", "/todos/"] * 10]
        still_waiting = writer.is_alive()
        writer.join()

        assert reads == [200] * 20
        assert still_waiting  # all 20 reads were answered while the write was still waiting
        (response,) = answers
        assert response.status_code == 503  # type: ignore[attr-defined]
        assert response.json() == {"detail": "Database busy, try again"}  # type: ignore[attr-defined]
        assert response.headers["Retry-After"] == "1"  # type: ignore[attr-defined]
        # Counted by the lock's holder: the test's own session would wait for the write lock.
        assert foreign_lock.execute("SELECT count(*) FROM todos WHERE owner_id = ?", (user.id,)).fetchone() == (0,)

    def test_writes_succeed_once_the_lock_is_released(
        self, busy_client: TestClient, user: Account, foreign_lock: sqlite3.Connection
    ) -> None:
        foreign_lock.execute("COMMIT")
        foreign_lock.execute("BEGIN")  # the fixture's ROLLBACK needs a transaction

        assert busy_client.post("/todos/todos", json={"title": "x"}, headers=user.headers).status_code == 201


class TestAUnitThatCommitsTwice:
    def test_its_second_begin_waits_for_a_lock_taken_in_between(
        self, settings: Settings, foreign_lock: sqlite3.Connection
    ) -> None:
        foreign_lock.execute("COMMIT")  # free until the unit's first commit
        db = Database(build_engine(settings), settings)
        taken, release = threading.Event(), threading.Event()

        def hold_the_lock_briefly() -> None:
            foreign_lock.execute("BEGIN IMMEDIATE")
            taken.set()
            release.wait(5)
            foreign_lock.execute("COMMIT")

        def two_transactions(session: Session) -> int:
            session.execute(text("UPDATE users SET updated_at = updated_at"))
            session.commit()
            threading.Thread(target=hold_the_lock_briefly).start()
            assert taken.wait(5)
            threading.Timer(0.05, release.set).start()  # held 50 ms into the next BEGIN
            session.execute(text("UPDATE users SET updated_at = updated_at"))
            session.commit()
            return 2

        try:
            assert on_new_loop(db, lambda: db.write(two_transactions)) == 2
        finally:
            release.set()
            db.dispose()
        foreign_lock.execute("BEGIN")  # the fixture's ROLLBACK needs a transaction

    def test_its_second_begin_gives_up_while_the_lock_stays_taken(
        self, settings: Settings, foreign_lock: sqlite3.Connection
    ) -> None:
        foreign_lock.execute("COMMIT")
        db = Database(build_engine(settings), settings)

        def two_transactions(session: Session) -> None:
            session.execute(text("UPDATE users SET updated_at = updated_at"))
            session.commit()
            foreign_lock.execute("BEGIN IMMEDIATE")  # taken, and kept past the wait
            session.execute(text("UPDATE users SET updated_at = updated_at"))

        try:
            with pytest.raises(DatabaseBusy):  # a 503, as for a first BEGIN that cannot start
                on_new_loop(db, lambda: db.write(two_transactions))
        finally:
            db.dispose()

    def test_a_failed_unit_leaves_the_write_connection_not_waiting(
        self, settings: Settings, foreign_lock: sqlite3.Connection
    ) -> None:
        """A database error drops the write session; the connection it leaves behind must
        fail its next BEGIN at once again (busy_timeout 0), never block the event loop."""
        foreign_lock.execute("COMMIT")
        db = Database(build_engine(settings), settings)

        def broken(session: Session) -> None:
            session.execute(text("UPDATE no_such_table SET x = 1"))

        try:
            with pytest.raises(OperationalError):
                on_new_loop(db, lambda: db.write(broken))
            conn = db._sqlite_connection(True)
            assert LATER_BEGIN_WAIT not in conn.info  # its next first BEGIN does not wait
            assert conn.connection.driver_connection.execute("PRAGMA busy_timeout").fetchone() == (0,)  # type: ignore[union-attr]
        finally:
            db.dispose()
        foreign_lock.execute("BEGIN")  # the fixture's ROLLBACK needs a transaction
