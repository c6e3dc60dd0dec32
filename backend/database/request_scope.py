"""Units of work on PostgreSQL and MariaDB: async drivers, one checkout per request.

A unit of work stays a plain sync function `fn(session, ...)` (backend/services); here it
runs through `AsyncSession.run_sync`, so its statements go over an async driver on the
event loop, with no thread-pool hop.

Within an HTTP request every unit shares one session, so the user check and the
request's own query use one connection checkout and one transaction (which a write
unit commits). `RequestScopeMiddleware` opens the scope and ends it after the response.
Outside a request (WebSocket handshakes, start-up) each unit gets a session of its own.

A safe-method request (GET, HEAD) only reads. On PostgreSQL, whose drivers open every
transaction with a BEGIN round trip and end it with a ROLLBACK, its statements run in
autocommit instead: two round trips fewer, and each read still sees committed data.
(MySQL drivers begin transactions implicitly, where switching would add round trips.)
A write unit in such a request, should one come, runs in a transaction of its own.

No liveness check (`pool_pre_ping`) runs per checkout: a connection the server dropped
fails its first statement, SQLAlchemy then discards it and every older pooled one, and a
read (idempotent) is retried once on a fresh connection. A write is not retried: it
answers 503 and the client may send it again.
"""

from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.database.outbox import Publisher, bind_publisher

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD"})
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
# Dialects whose drivers send BEGIN and ROLLBACK as round trips of their own.
EXPLICIT_BEGIN = frozenset({"postgresql"})


class RequestScope:
    """The session an HTTP request's units of work share, once the first one needs it."""

    __slots__ = ("session", "ended", "read_only")

    def __init__(self, *, read_only: bool) -> None:
        self.session: AsyncSession | None = None
        self.ended = False
        self.read_only = read_only

    async def end(self) -> None:
        """Roll back whatever is open and give the connection back to the pool."""
        self.ended = True
        session, self.session = self.session, None
        if session is not None:
            await _close(session)


_scope: ContextVar[RequestScope | None] = ContextVar("db_request_scope", default=None)


async def _close(session: AsyncSession) -> None:
    try:
        await session.close()
    except DBAPIError:  # the connection died with the request: the pool has discarded it
        await session.invalidate()


class RequestScopeMiddleware:
    """Gives each HTTP request a scope for its units of work and ends it afterwards."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_scope = RequestScope(read_only=scope["method"] in SAFE_METHODS)
        token = _scope.set(request_scope)
        try:
            await self.app(scope, receive, send)
        finally:
            _scope.reset(token)
            await request_scope.end()


def _disconnected(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class ServerUnits:
    """Runs units of work on an async engine (PostgreSQL, MariaDB)."""

    def __init__(self, engine: AsyncEngine, publisher: Callable[[], Publisher | None]) -> None:
        self.engine = engine
        self._factory = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._publisher = publisher
        self._autocommit_reads = engine.dialect.name in EXPLICIT_BEGIN

    def _new_session(self) -> AsyncSession:
        session = self._factory()
        bind_publisher(session.sync_session, self._publisher())
        return session

    async def run(self, fn: Callable[[Session], T], *, write: bool) -> T:
        try:
            return await self._run_once(fn, write=write)
        except DBAPIError as exc:
            if write or not _disconnected(exc):
                raise
        return await self._run_once(fn, write=write)  # a read on a connection the server had dropped: once more

    async def _run_once(self, fn: Callable[[Session], T], *, write: bool) -> T:
        scope = _scope.get()
        if scope is None or scope.ended or (write and scope.read_only and self._autocommit_reads):
            async with self._new_session() as session:
                return await self._guarded(session, fn)
        try:
            if scope.session is None:
                scope.session = self._new_session()
                if scope.read_only and self._autocommit_reads:
                    await scope.session.connection(execution_options=AUTOCOMMIT)
            return await self._guarded(scope.session, fn)
        except BaseException:
            # Start the request's next unit (if any) on a clean session and connection.
            await scope.end()
            scope.ended = False
            raise

    @staticmethod
    async def _guarded(session: AsyncSession, fn: Callable[[Session], T]) -> T:
        try:
            result = await session.run_sync(fn)
        except BaseException:
            with suppress(DBAPIError):  # a dead connection: the pool has discarded it already
                await session.rollback()
            raise
        if session.sync_session.identity_map:
            session.expunge_all()  # no object outlives the unit that loaded it
        return result
