"""What a client may send: a body of at most MAX_BODY_BYTES, within BODY_TIMEOUT_SECONDS.

Over the size: 413, whether announced by Content-Length or streamed. Too slow: 408 and
the connection is closed (a client trickling a body must not hold a request open). The
header deadline, which must act before the app sees a request, is in core.slow_clients.
"""

import time
from collections.abc import Coroutine, Generator, Mapping
from typing import Any, cast

import anyio
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def size_text(limit: int) -> str:
    """`1 MiB`, `512 KiB`, `1500 bytes`: the limit as people read it."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def too_large_message(limit: int) -> str:
    return f"Request body too large (limit {size_text(limit)})"


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive`: FastAPI re-raises HTTP exceptions met while reading a body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


class BodyTimeout(StarletteHTTPException):
    def __init__(self) -> None:
        super().__init__(408, "Request body not received in time")


class RequestLimitsMiddleware:
    """Refuse bodies over the size limit (413) or slower than the time limit (408)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, body_timeout: float, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout = body_timeout
        # Paths that take bigger bodies (the import: 5 MiB) and their own limits.
        self.limits = {path: max(limit, max_bytes) for path, limit in (larger or {}).items()}
        self.answers = {limit: _too_large(limit) for limit in {max_bytes, *self.limits.values()}}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        max_bytes = self.limits.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await _answer(send, 413, self.answers[max_bytes])
                return
        received = 0
        complete = False
        started = False
        deadline = time.monotonic() + self.body_timeout

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body: waiting for a disconnect has no deadline
                return await receive()
            message = await _receive_by(receive, deadline)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
                complete = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _answer(send, 413, self.answers[max_bytes])
        except BodyTimeout:
            if not started:
                await _answer(send, 408, b'{"detail":"Request body not received in time"}', close=True)
        finally:
            scope.setdefault("state", {})["body_bytes"] = received  # RequestContextMiddleware's BodyCollector


async def _receive_by(receive: Receive, deadline: float) -> Message:
    """`receive()`, given up at `deadline` (BodyTimeout).

    A small body has usually arrived whole by the time the app asks for it, and then
    `receive()` returns without waiting: it is started here by hand, and only one that
    would wait is awaited under a timeout. A timeout scope entered for every body cost
    about 40 µs of a create (docs/performance.md, "A timer per body").
    """
    pending = receive()
    if isinstance(pending, Coroutine):
        try:
            waiting = pending.send(None)
        except StopIteration as done:
            return cast(Message, done.value)
        pending = _Resumed(pending, waiting)
    with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
        return await pending
    raise BodyTimeout()


class _Resumed:
    """The rest of a coroutine started by hand, awaited from where it stopped (as `await`
    would have gone on): what it waits for goes to the task, and what the task sends or
    throws (a cancellation) goes back into it."""

    __slots__ = ("coroutine", "waiting")

    def __init__(self, coroutine: Coroutine[Any, Any, Message], waiting: Any) -> None:
        self.coroutine = coroutine
        self.waiting = waiting

    def __await__(self) -> Generator[Any, Any, Message]:
        coroutine, waiting = self.coroutine, self.waiting
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown into the coroutine, as `await` does
                try:
                    waiting = coroutine.throw(exc)
                except StopIteration as done:
                    return cast(Message, done.value)
            else:
                try:
                    waiting = coroutine.send(sent)
                except StopIteration as done:
                    return cast(Message, done.value)


def _too_large(limit: int) -> bytes:
    return f'{{"detail":"{too_large_message(limit)}"}}'.encode()


async def _answer(send: Send, status: int, body: bytes, *, close: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
