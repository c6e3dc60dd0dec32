"""Client spans for database statements and Redis commands, without their parameters."""

import functools
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

if TYPE_CHECKING:  # importing it at run time needs greenlet, which the app does not install
    from sqlalchemy.ext.asyncio import AsyncEngine

from backend.core.tracing_context import Tracing, tracing_var

_SPAN_INFO_KEY = "backend.tracing.span"
_TRACED_MARK = "_backend_traced"
_COREDIS_EXECUTE = "execute_command"


_MAIN_OPERATIONS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"})
_PARENS_OR_WORDS = re.compile(r"[()]|[A-Za-z_]+")


def operation_of(statement: str) -> str:
    """A statement's operation: its first word, or after a `WITH`'s common table
    expressions the statement they serve (`WITH counted AS (UPDATE …) INSERT …`: INSERT)."""
    words = statement.split(None, 1)
    if not words:
        return "SQL"
    first = words[0].upper()
    if first != "WITH":
        return first
    depth = 0
    for match in _PARENS_OR_WORDS.finditer(statement):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and token.upper() in _MAIN_OPERATIONS:
            return token.upper()
    return first


def instrument_engine(engine: "Engine | AsyncEngine", tracing: Tracing) -> None:
    """A client span per statement run on `engine` (an AsyncEngine's sync engine works too)."""
    sync_engine: Engine = engine if isinstance(engine, Engine) else engine.sync_engine
    url = sync_engine.url
    dialect = sync_engine.dialect
    base: dict[str, str | int] = {}
    if dialect.name != "sqlite":  # a file path, not a database name
        if url.database:
            base["db.namespace"] = url.database
        if url.host:
            base["server.address"] = url.host
        if url.port:
            base["server.port"] = url.port
    tracer = tracing.tracer

    def before_cursor_execute(
        conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
    ) -> None:
        # The statement text only: its parameters (titles, emails, hashes) stay out.
        operation = operation_of(statement)
        # MariaDB is told apart from MySQL only once connected.
        system = "mariadb" if getattr(dialect, "is_mariadb", False) else dialect.name
        attributes = {**base, "db.system.name": system, "db.query.text": statement, "db.operation.name": operation}
        if executemany:
            attributes["db.operation.batch.size"] = len(parameters)
        name = f"{operation} {base['db.namespace']}" if "db.namespace" in base else operation
        info = conn.info
        stale = info.pop(_SPAN_INFO_KEY, None)
        if stale is not None:  # a statement that ended without either event below
            stale.end()
        info[_SPAN_INFO_KEY] = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def after_cursor_execute(conn: Any, *_args: Any) -> None:
        span = conn.info.pop(_SPAN_INFO_KEY, None)
        if span is not None:
            span.end()

    def handle_error(context: ExceptionContext) -> None:
        conn = context.connection
        span = conn.info.pop(_SPAN_INFO_KEY, None) if conn is not None else None
        if span is not None:
            _failed(span, context.original_exception)
            span.end()

    # One statement at a time runs on a connection, so the connection's info dict holds
    # the open span (the execution context is None for some of the dialect's own statements).
    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    event.listen(sync_engine, "handle_error", handle_error)


def _failed(span: Span, error: BaseException) -> None:
    # The error's type only: a driver's message can quote the values it was given
    # (PostgreSQL's "Key (email)=(…) already exists").
    span.set_attribute("error.type", type(error).__qualname__)
    span.set_status(Status(StatusCode.ERROR))


def instrument_coredis() -> None:
    """Trace coredis commands run while a traced app serves a request or job (once per process).

    The rate limiter reaches Redis through `limits`, which makes its own coredis client, so
    the hook is coredis's command execution: every command, Lua scripts included, passes
    through `execute_command` (retries included, so one span per command). Elsewhere the
    wrapper is a pass-through after one ContextVar read.
    """
    import coredis

    for cls in (coredis.Redis, coredis.RedisCluster):
        execute = cls.__dict__[_COREDIS_EXECUTE]
        if not getattr(execute, _TRACED_MARK, False):
            setattr(cls, _COREDIS_EXECUTE, _traced_command(execute))


def _traced_command(execute: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(execute)
    async def execute_command(client: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        tracing = tracing_var.get()
        if tracing is None:
            return await execute(client, command, *args, **kwargs)
        name = bytes(command.name).decode("ascii", "replace").upper()
        with tracing.tracer.start_as_current_span(
            name,
            kind=SpanKind.CLIENT,
            attributes=_redis_attributes(client, name),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await execute(client, command, *args, **kwargs)
            except BaseException as exc:
                _failed(span, exc)
                raise

    setattr(execute_command, _TRACED_MARK, True)
    return execute_command


def _redis_attributes(client: Any, name: str) -> dict[str, str | int]:
    # The command's name only: its arguments hold keys made of client IPs and usernames.
    attributes: dict[str, str | int] = {"db.system.name": "redis", "db.operation.name": name}
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None) or {}
    if kwargs.get("host"):
        attributes["server.address"] = str(kwargs["host"])
    if kwargs.get("port"):
        attributes["server.port"] = int(kwargs["port"])
    if kwargs.get("db") is not None:
        attributes["db.namespace"] = str(kwargs["db"])
    return attributes
