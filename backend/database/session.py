"""Engine, sessions and the one way requests reach the database.

Routes are `async def`. A unit of work is a plain sync function `fn(session, **kw)`
from `backend.services`, handed to `Database.read` or `Database.write`:

- on SQLite the call runs inline on the event loop. A local SQLite statement takes
  microseconds and the process serialises its writers anyway, so a thread-pool hop per
  request would cost more than it saves (docs/performance.md).
- on PostgreSQL / MariaDB it runs over an async driver on the event loop, sharing the
  request's one connection checkout (backend/database/request_scope.py).

Code outside requests (job workers, the export stream, scripts) calls `Database.call`,
which runs a unit in a plain sync session on the sync twin of the driver.
"""

import sqlite3
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from backend.core.config import Settings
from backend.core.errors import DatabaseBusy
from backend.database import pool_reset
from backend.database.drivers import async_url, sync_url
from backend.database.outbox import Publisher, bind_publisher
from backend.database.plans import keep_generic_plans
from backend.database.request_scope import ONE_STATEMENT_WRITES, ServerUnits

P = ParamSpec("P")
T = TypeVar("T")
SQLITE_BEGIN = "sqlite_begin"
READ_BUSY_MS = 500
BUSY_FIRST_PAUSE = 0.002
BUSY_MAX_PAUSE = 0.05
LATER_BEGIN_WAIT_MS = 250
# On the SQLite write connection's info while a unit runs: how long a later BEGIN waits.
LATER_BEGIN_WAIT = "later_begin_wait"


def is_sqlite_busy(exc: Exception) -> bool:
    """SQLite's "database is locked" (SQLITE_BUSY): another connection has the lock."""
    return "database is locked" in str(getattr(exc, "orig", exc))


def build_engine(settings: Settings, url: str | None = None) -> Engine:
    """Create the sync engine for DATABASE_URL (its sync twin driver) with per-dialect tuning."""
    db_url = sync_url(url or settings.DATABASE_URL)
    if db_url.get_backend_name() == "sqlite":
        return _sqlite_engine(db_url.render_as_string(hide_password=False), settings)
    if db_url.get_backend_name() == "mysql":
        db_url = db_url.update_query_dict({"charset": "utf8mb4"})
    # Sync sessions serve job workers and scripts, where a liveness check per checkout
    # costs nothing that matters; requests run on the async engine, which has none.
    options = _pool_options(settings, db_url.get_backend_name())
    engine = create_engine(db_url, pool_pre_ping=True, **options, connect_args={"connect_timeout": 5})
    _install_reset(engine)
    return engine


def _pool_options(settings: Settings, backend: str) -> dict[str, Any]:
    return {
        "pool_size": settings.DB_POOL_SIZE,
        "max_overflow": settings.DB_MAX_OVERFLOW,
        "pool_timeout": settings.DB_POOL_TIMEOUT,
        "pool_recycle": 1800,
        # MySQL: pool_reset.py resets returned connections, skipping a needless ROLLBACK.
        **({"pool_reset_on_return": None} if backend == "mysql" else {}),
    }


def _install_reset(engine: Engine) -> None:
    if engine.dialect.name == "mysql":
        pool_reset.install(engine)


def build_server_units(engine: Engine, settings: Settings, publisher: Callable[[], Publisher | None]) -> ServerUnits:
    """The async engine requests use on PostgreSQL / MariaDB, on the same database as `engine`."""
    named = make_url(settings.DATABASE_URL)
    same = sync_url(named).difference_update_query(["charset"]) == engine.url.difference_update_query(["charset"])
    # The driver DATABASE_URL names, when `engine` is on that database (else the default).
    url = async_url(named if same else engine.url)
    options: dict[str, Any] = {}
    if url.get_backend_name() == "mysql":
        url = url.update_query_dict({"charset": "utf8mb4"})
        # A fresh snapshot per statement, as on PostgreSQL: a request's write unit runs in
        # the transaction its user check opened, and must see rows as they are now.
        options["isolation_level"] = "READ COMMITTED"
    timeout = {"timeout": 5} if url.get_driver_name() == "asyncpg" else {"connect_timeout": 5}
    pool = _pool_options(settings, url.get_backend_name())
    async_engine = create_async_engine(url, **pool, **options, connect_args=timeout)
    _install_reset(async_engine.sync_engine)
    if url.get_backend_name() == "postgresql":
        keep_generic_plans(async_engine.sync_engine)
    return ServerUnits(async_engine, publisher, capacity=settings.DB_POOL_SIZE + settings.DB_MAX_OVERFLOW)


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})
    busy_ms = settings.SQLITE_BUSY_TIMEOUT_MS

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later tries to
        # upgrade fails with "database is locked" instead of waiting busy_timeout.
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode != "NONE":  # NONE: single-statement reads, each its own implicit transaction
            # Straight to the driver, as psycopg and PyMySQL begin theirs: transaction
            # control, not a statement of the request.
            _sqlite_begin(conn.connection.driver_connection, mode, conn.info.get(LATER_BEGIN_WAIT, 0.0))

    return engine


def _sqlite_begin(driver: sqlite3.Connection, mode: str, wait: float) -> None:
    """BEGIN, retried for up to `wait` seconds while another connection has the lock.

    The write connection's busy_timeout stays 0, so its first BEGIN of a unit fails at once
    (Database._sqlite_write retries that one asleep). A later BEGIN inside a unit that
    commits more than once waits here, as SQLite's busy handler would (blocking, briefly):
    a flag on the connection, where a PRAGMA before and after every write unit cost two
    statements a write (docs/performance.md).
    """
    deadline = time.monotonic() + wait
    pause = BUSY_FIRST_PAUSE / 2
    while True:
        try:
            driver.execute(f"BEGIN {mode}")
            return
        except sqlite3.OperationalError as exc:
            if not is_sqlite_busy(exc) or not wait:
                raise
            if time.monotonic() + pause > deadline:
                # Raised outside SQLAlchemy's error handling (the begin event): the 503
                # "Database busy" the first BEGIN gets, not a bare driver error and a 500.
                raise DatabaseBusy() from exc
        time.sleep(pause)
        pause = min(pause * 2, BUSY_MAX_PAUSE)


class Database:
    """The engine, its session factory, and how units of work are run."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # Where an unfiltered `GET /todos/` reads its page along with the user check, in one
        # statement (services/signed_in.py): PostgreSQL, where the round trip it saves cost
        # more than the statement's derived tables (+10% lists a second). SQLite has no
        # round trip to save and sorted the joined rows again (-20%); MariaDB materialized
        # both derived tables (as fast for 50 todos, slower for 10,000, twice the server's
        # CPU). docs/performance.md, "Where the time went".
        self.page_with_check = engine.dialect.name == "postgresql"
        # Where a create is one statement, its count's UPDATE in the INSERT's WITH
        # (services/todos.py), and may run in autocommit (database/request_scope.py).
        self.one_statement_creates = engine.dialect.name in ONE_STATEMENT_WRITES
        self.session_factory = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        # SQLite units of work run one at a time on the event loop, so one connection for
        # reads (autocommit: every read statement is its own snapshot) and one for writes
        # (BEGIN IMMEDIATE) serve them all without a pool checkout per request.
        self._sqlite_conns: dict[bool, Connection] = {}
        self._sqlite_reader: Session | None = None
        self._sqlite_writer: Session | None = None
        self.busy_timeout_ms = settings.SQLITE_BUSY_TIMEOUT_MS
        self.busy_timeout = settings.SQLITE_BUSY_TIMEOUT_MS / 1000
        # Where committed change events go (realtime/events.py): the app's hub, a worker's
        # Redis relay, or nowhere (None: scripts, tests that do not listen).
        self.publisher: Publisher | None = None
        self._settings = settings

    @cached_property
    def server(self) -> ServerUnits | None:
        """PostgreSQL / MariaDB requests: the async engine, made when first needed (job
        workers and scripts never need it); None on SQLite."""
        if self.is_sqlite:
            return None
        return build_server_units(self.engine, self._settings, lambda: self.publisher)

    @property
    def request_engine(self) -> Engine:
        """The engine whose connections requests use (statements are counted and traced on it)."""
        return self.engine if self.server is None else self.server.engine.sync_engine

    def session(self, *, write: bool = False) -> Session:
        """A new pooled session; for writes on SQLite its transaction starts with BEGIN IMMEDIATE."""
        session = self.session_factory()
        bind_publisher(session, self.publisher)
        if write and self.is_sqlite:
            session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        return session

    def call(self, fn: Callable[[Session], T], *, write: bool) -> T:
        """Run one unit of work in a fresh pooled session (any thread); roll back on error.

        Arguments travel bound to `fn` (`functools.partial`), since nothing may follow a
        ParamSpec's `*args` and `write=` must be named.
        """
        with self.session(write=write) as session:
            return self._guarded(session, fn)

    @staticmethod
    def _guarded(session: Session, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kw: P.kwargs) -> T:
        try:
            return fn(session, *args, **kw)
        except BaseException:
            session.rollback()
            raise

    def _sqlite_connection(self, write: bool) -> Connection:
        conn = self._sqlite_conns.get(write)
        if conn is None or conn.closed or conn.invalidated:
            mode = "IMMEDIATE" if write else "NONE"
            conn = self.engine.connect().execution_options(**{SQLITE_BEGIN: mode})
            # Reads in WAL mode never wait for writers; should another process lock the
            # whole file (a checkpoint, a backup) they wait briefly, then answer 503. The
            # writer does not wait inside SQLite at all (see _sqlite_write).
            wait_ms = 0 if write else min(READ_BUSY_MS, self.busy_timeout_ms)
            conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={wait_ms}")  # type: ignore[union-attr]
            self._sqlite_conns[write] = conn
        return conn

    def _sqlite_read(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kw: P.kwargs) -> T:
        # One long-lived session over the autocommit read connection: building and
        # tearing down a Session cost as much as the query. Its identity map is emptied
        # after every unit of work, so no object outlives the request that loaded it.
        session = self._sqlite_reader
        if session is None:
            session = self._sqlite_reader = Session(
                bind=self._sqlite_connection(False), expire_on_commit=False, autoflush=False
            )
        try:
            return fn(session, *args, **kw)
        except SQLAlchemyError:
            self._sqlite_reader = None  # start over on a fresh session (and connection if needed)
            session.close()
            raise
        finally:
            if session.identity_map:
                session.expunge_all()

    async def read(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kw: P.kwargs) -> T:
        """Run a read-only unit of work without blocking the event loop on the network."""
        if self.server is None:  # SQLite, the hottest path of the app: no extra layer
            return self._sqlite_read(fn, *args, **kw)
        return await self.server.run(lambda session: fn(session, *args, **kw), write=False)

    async def write(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kw: P.kwargs) -> T:
        """Run a unit of work that writes; the service function commits."""
        if self.server is None:
            return await self._sqlite_write(fn, *args, **kw)
        return await self.server.run(lambda session: fn(session, *args, **kw), write=True)

    async def _sqlite_write(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kw: P.kwargs) -> T:
        # The write connection never waits inside SQLite (busy_timeout 0, which would block
        # the event loop): while another process holds the write lock, BEGIN IMMEDIATE
        # fails at once and we retry here, asleep, so reads and /health go on answering.
        # Nothing has been written when BEGIN fails; past SQLITE_BUSY_TIMEOUT_MS the
        # request gets 503 "Database busy, try again".
        deadline = time.monotonic() + self.busy_timeout
        pause = BUSY_FIRST_PAUSE
        while True:
            session = self._sqlite_write_session()
            try:
                session.connection()  # BEGIN IMMEDIATE: the write lock, or "database is locked"
            except (OperationalError, sqlite3.OperationalError) as exc:
                self._drop_sqlite_writer()
                if not is_sqlite_busy(exc):
                    raise
            else:
                return self._sqlite_unit(session, fn, *args, **kw)
            if time.monotonic() + pause > deadline:
                raise DatabaseBusy()
            await anyio.sleep(pause)
            pause = min(pause * 2, BUSY_MAX_PAUSE)

    def _sqlite_write_session(self) -> Session:
        # Like the reader, one long-lived session on the write connection: a Session built
        # per write cost more than its INSERT. Units run one at a time on the event loop,
        # and each ends with the session closed (no transaction, no objects).
        session = self._sqlite_writer
        if session is None:
            session = Session(bind=self._sqlite_connection(True), expire_on_commit=False, autoflush=False)
            self._sqlite_writer = session
        bind_publisher(session, self.publisher)
        return session

    def _drop_sqlite_writer(self) -> None:
        session, self._sqlite_writer = self._sqlite_writer, None
        if session is not None:
            session.close()

    def _sqlite_unit(
        self, session: Session, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kw: P.kwargs
    ) -> T:
        # A unit that commits more than once (bulk actions: one transaction per todo)
        # begins again inside; let those BEGINs wait briefly (_sqlite_begin), since the
        # retry in _sqlite_write covers only the first ("database is locked").
        info = session.connection().info
        info[LATER_BEGIN_WAIT] = LATER_BEGIN_WAIT_MS / 1000
        try:
            return self._guarded(session, fn, *args, **kw)
        except SQLAlchemyError:
            self._drop_sqlite_writer()  # start over on a fresh session (and connection if needed)
            raise
        finally:
            # The connection outlives a dropped session: its first BEGIN must never wait.
            info.pop(LATER_BEGIN_WAIT, None)
            if self._sqlite_writer is session:
                # Ends any transaction a unit left open (one that read after its last
                # commit) and detaches its objects with their loaded state, as closing
                # a session of its own did; the session stays usable for the next unit.
                session.close()

    async def dispose_async(self) -> None:
        """Close the async engine's pooled connections (on the loop that made them), then the rest."""
        if "server" in self.__dict__ and self.server is not None:
            await self.server.dispose()
        self.dispose()

    def dispose(self) -> None:
        """Close the SQLite connections and every pooled connection of the sync engine."""
        if self._sqlite_reader is not None:
            self._sqlite_reader.close()
            self._sqlite_reader = None
        self._drop_sqlite_writer()
        for conn in self._sqlite_conns.values():
            conn.close()
        self._sqlite_conns.clear()
        self.engine.dispose()
