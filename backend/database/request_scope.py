"""Units of work on PostgreSQL and MariaDB: async drivers, one checkout per request.

A unit of work stays a plain sync function `fn(session, ...)` (backend/services); here it
runs on the AsyncSession's sync session in a greenlet (`greenlets.run_sync`, as
`AsyncSession.run_sync` does it, in greenlets kept between calls), so its statements go
over an async driver on the event loop, with no thread-pool hop.

Within an HTTP request every unit shares one session, so the user check and the
request's own query use one connection checkout and one transaction (which a write
unit commits). `RequestScopeMiddleware` opens the scope and gives the connection back
as the response starts, before its body is sent. A request about to wait on something
slow that is not the database (a form body, a password hash) calls `release()` first,
and its next unit checks a connection out again. Outside a request (WebSocket
handshakes, start-up) each unit gets a session of its own. MariaDB sessions run at READ
COMMITTED, as PostgreSQL's do, so a write after the user check sees current rows.

A safe-method request (GET, HEAD) only reads. On PostgreSQL, whose drivers open every
transaction with a BEGIN round trip and end it with a ROLLBACK, its statements run in
autocommit instead: two round trips fewer, and each read still sees committed data.
(MySQL drivers begin transactions implicitly, where switching would add round trips.)
A write unit in such a request, should one come, gives that connection back and runs in
a transaction of its own. A write request that may end in a single statement, atomic by
itself (a create where its count's UPDATE is in the INSERT's WITH: `ONE_STATEMENT_WRITES`;
a plain change of one todo: one guarded UPDATE), has its reads run that way too
(`reads_in_autocommit`, before its first unit), and says before that write that it is
one (`single_statement_write`): on PostgreSQL it then runs in autocommit as well, without
the BEGIN and COMMIT round trips. Any other write (a second one, one that inserts a
repeating todo's next occurrence, a move) gets a transaction of its own.

No liveness check (`pool_pre_ping`) runs per checkout: a connection the server dropped
fails its first statement, SQLAlchemy then discards it and every older pooled one, and a
read (idempotent) is retried once on a fresh connection. A write is not retried: it
answers 503 and the client may send it again.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from typing import TypeVar

import anyio
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.database.greenlets import run_sync
from backend.database.outbox import Publisher, bind_publisher

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD"})
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
# Dialects whose drivers send BEGIN and ROLLBACK as round trips of their own.
EXPLICIT_BEGIN = frozenset({"postgresql"})
# Where a create's counter UPDATE and INSERT are one statement (the UPDATE in the INSERT's
# WITH, services/todos.py), so a request that makes only that write can run it in
# autocommit (where reads do too: EXPLICIT_BEGIN; Database.one_statement_creates).
ONE_STATEMENT_WRITES = frozenset({"postgresql"})


class RequestScope:
    """The session an HTTP request's units of work share, once the first one needs it."""

    __slots__ = ("session", "units", "ended", "autocommit", "single_write", "limiter")

    def __init__(self, *, read_only: bool) -> None:
        self.session: AsyncSession | None = None
        self.units: ServerUnits | None = None  # whose session it is
        self.ended = False
        # Its units run in autocommit where reads do (EXPLICIT_BEGIN): a read-only request,
        # or one whose write may be one statement (`reads_in_autocommit`).
        self.autocommit = read_only
        self.single_write = False  # the next write is one statement (`single_statement_write`)
        self.limiter: anyio.CapacityLimiter | None = None  # the turn this scope holds

    async def release(self) -> None:
        """Roll back whatever is open and give the connection back; a later unit takes another."""
        session, self.session = self.session, None
        if session is not None and self.units is not None:
            await self.units.close(session)  # shielded: a cancelled request still checks its connection in
        limiter, self.limiter = self.limiter, None
        if limiter is not None:
            limiter.release_on_behalf_of(self)

    async def end(self) -> None:
        """`release`, and later units of this request run in sessions of their own."""
        self.ended = True
        await self.release()


_scope: ContextVar[RequestScope | None] = ContextVar("db_request_scope", default=None)


def reads_in_autocommit() -> None:
    """Before a request's first unit: its reads run in autocommit where a safe request's
    do; a write then gets a transaction of its own unless `single_statement_write` says
    it is one statement."""
    scope = _scope.get()
    if scope is not None and scope.session is None and not scope.ended:
        scope.autocommit = True


def single_statement_write() -> None:
    """Before a write unit: it is a single statement, atomic by itself, so it may run on
    the request's autocommit connection (`reads_in_autocommit`) as it is."""
    scope = _scope.get()
    if scope is not None and scope.autocommit:
        scope.single_write = True


async def release() -> None:
    """Before waiting on something slow that is not the database: free the request's connection."""
    scope = _scope.get()
    if scope is not None:
        await scope.release()


async def _close(session: AsyncSession) -> bool:
    """Close `session` (its connection back to the pool); False when that connection had died."""
    try:
        await run_sync(session.sync_session.close, shielded=True)
    except DBAPIError:  # the connection died with the request: the pool has discarded it
        await run_sync(session.sync_session.invalidate, shielded=True)
        return False
    return True


class RequestScopeMiddleware:
    """Gives each HTTP request a scope for its units of work; ends it as the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_scope = RequestScope(read_only=scope["method"] in SAFE_METHODS)
        token = _scope.set(request_scope)

        async def send_after_release(message: Message) -> None:
            if message["type"] == "http.response.start":
                await request_scope.end()  # before the body: slow clients never hold a connection
            await send(message)

        try:
            await self.app(scope, receive, send_after_release)
        finally:
            _scope.reset(token)
            await request_scope.end()


async def _take_turn(turns: anyio.CapacityLimiter, scope: RequestScope) -> None:
    """A turn for `scope`: at once when one is free and nobody waits (no event-loop
    round through anyio's checkpoint), else in arrival order behind the waiters."""
    try:
        turns.acquire_on_behalf_of_nowait(scope)
    except anyio.WouldBlock:
        await turns.acquire_on_behalf_of(scope)


def _in_autocommit(fn: Callable[[Session], T]) -> Callable[[Session], T]:
    """`fn`, checking its session's connection out in autocommit first (in the same
    greenlet: a separate `await session.connection()` cost one more switch per request)."""

    def unit(session: Session) -> T:
        session.connection(execution_options=AUTOCOMMIT)
        return fn(session)

    return unit


def _disconnected(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class ServerUnits:
    """Runs units of work on an async engine (PostgreSQL, MariaDB)."""

    def __init__(self, engine: AsyncEngine, publisher: Callable[[], Publisher | None], *, capacity: int) -> None:
        self.engine = engine
        # Requests take turns for the pool's connections in arrival order. The pool's own
        # queue lets a newcomer take a connection a waiter was just woken for, which at
        # 256 connections left a few requests waiting seconds (p99 19 to 83 x p50).
        self.turns = anyio.CapacityLimiter(capacity)
        self._factory = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._publisher = publisher
        # Closed sessions, used again: SQLAlchemy's close() leaves a session as good as
        # new, and making one cost about 13 µs (docs/performance.md, "What is left").
        self._idle: list[AsyncSession] = []
        self._autocommit_reads = engine.dialect.name in EXPLICIT_BEGIN
        self._loop: asyncio.AbstractEventLoop | None = None

    def _new_session(self) -> AsyncSession:
        session = self._idle.pop() if self._idle else self._factory()
        session.sync_session.info.clear()  # nothing of an earlier unit's (its pending events)
        bind_publisher(session.sync_session, self._publisher())
        return session

    async def close(self, session: AsyncSession) -> None:
        """Give `session`'s connection back, and keep the session for another unit."""
        if await _close(session) and len(self._idle) < self.turns.total_tokens:
            self._idle.append(session)

    def _follow(self, loop: asyncio.AbstractEventLoop) -> None:
        """An async driver's connections belong to the loop that opened them. One loop per
        process in production; an app driven from two loops (tests do) gets a fresh pool
        on each switch, and the old one is closed on its own loop."""
        old_loop, self._loop = self._loop, loop
        if old_loop is not None:
            engine = self.engine.sync_engine
            old_pool, engine.pool = engine.pool, engine.pool.recreate()
            if old_loop.is_running():
                asyncio.run_coroutine_threadsafe(greenlet_spawn(old_pool.dispose), old_loop)

    async def dispose(self) -> None:
        """Close the pooled connections, on the loop they belong to."""
        loop = asyncio.get_running_loop()
        if self._loop is None or self._loop is loop:
            await self.engine.dispose()
        else:
            self._follow(loop)

    async def run(self, fn: Callable[[Session], T], *, write: bool) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._follow(loop)
        try:
            try:
                return await self._run_once(fn, write=write)
            except DBAPIError as exc:
                if write or not _disconnected(exc):
                    raise
            return await self._run_once(fn, write=write)  # a read on a connection the server had dropped: once more
        except OSError as exc:  # asyncpg's own connect failures (refused, timed out) are not DBAPI errors
            raise OperationalError("connect", None, exc) from exc

    async def _run_once(self, fn: Callable[[Session], T], *, write: bool) -> T:
        scope = _scope.get()
        if scope is not None and write and scope.autocommit and self._autocommit_reads:
            if scope.single_write:
                scope.single_write = False  # this one, in autocommit; any other in a transaction
            else:
                await scope.release()  # the autocommit connection: nothing open on it to lose
                scope = None
        if scope is None or scope.ended:
            async with self.turns:
                session = self._new_session()
                try:
                    return await self._guarded(session, fn)
                finally:
                    await self.close(session)  # shielded, as AsyncSession's own exit is
        try:
            if scope.session is None:
                if scope.limiter is None:
                    await _take_turn(self.turns, scope)
                    scope.limiter = self.turns
                scope.session, scope.units = self._new_session(), self
                if scope.autocommit and self._autocommit_reads:
                    fn = _in_autocommit(fn)
            return await self._guarded(scope.session, fn)
        except BaseException:
            # Start the request's next unit (if any) on a clean session and connection.
            await scope.release()
            raise

    @staticmethod
    async def _guarded(session: AsyncSession, fn: Callable[[Session], T]) -> T:
        try:
            result = await run_sync(fn, session.sync_session)
        except BaseException:
            with suppress(DBAPIError):  # a dead connection: discarded already
                await run_sync(session.sync_session.rollback, shielded=True)
            raise
        if session.sync_session.identity_map:
            session.expunge_all()  # no object outlives the unit that loaded it
        return result
