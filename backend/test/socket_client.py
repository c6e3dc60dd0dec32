"""A real WebSocket client for the live tests of `GET /ws` (websockets' sync client).

The live-socket tests (backend/test/realtime) and the deploy tests (Redis, nginx) talk to
real servers the same way: open a socket with some headers, read the next event (answering
the server's pings on the way), wait for the close and its code, or see the handshake
refused. Every wait is a poll on the socket with a deadline, never a fixed sleep.

Over TLS (the nginx tests' wss://) the socket is a `TlsSocket`: websockets' sync client
reads in a thread of its own while the caller writes, and CPython's SSLSocket lets both
threads into one OpenSSL connection at once, which now and then corrupts it (the
handshake response is never seen: python/cpython#151508,
miguelgrinberg/python-engineio#461). A plain TCP socket has no such state to share.
"""

import asyncio
import json
import ssl
import threading
import time
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from websockets.asyncio.client import ClientConnection as AsyncConnection
from websockets.asyncio.client import connect as connect_async
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Data, Origin

T = TypeVar("T")


class LiveSocket(Protocol):
    """What the tests do with a socket, whichever client holds it."""

    def recv(self, timeout: float | None = None) -> Data: ...

    def send(self, message: str) -> None: ...

    def close(self) -> None: ...


class TlsSocket:
    """A wss:// socket whose every read and write runs on one thread: its own event loop's
    (websockets' asyncio client), behind the sync client's `recv(timeout)` and `send`."""

    def __init__(self, uri: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tls-socket", daemon=True)
        self._thread.start()
        try:
            self._connection: AsyncConnection = self._run(self._open(uri, options))
        except BaseException:
            self._stop()
            raise

    @staticmethod
    async def _open(uri: str, options: dict[str, Any]) -> AsyncConnection:
        return await connect_async(uri, **options)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def recv(self, timeout: float | None = None) -> Data:
        """The next message; TimeoutError after `timeout` s, ConnectionClosed once closed."""
        return self._run(asyncio.wait_for(self._connection.recv(), timeout))

    def send(self, message: str) -> None:
        self._run(self._connection.send(message))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._connection.close())
        finally:
            self._stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


PING = {"type": "ping"}
PONG = {"type": "pong"}


def ws_url(base_url: str, query: str = "") -> str:
    """`http(s)://host:port` → `ws(s)://host:port/ws[?query]`."""
    return base_url.replace("http", "ws", 1) + "/ws" + (f"?{query}" if query else "")


def _handshake(headers: Mapping[str, str] | None, origin: str | None) -> dict[str, Any]:
    """The options both clients open a socket with."""
    return {
        "additional_headers": dict(headers or {}),
        "origin": Origin(origin) if origin else None,
        "proxy": None,
        "open_timeout": 10,
        "close_timeout": 2,
    }


def open_socket(
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    origin: str | None = None,
    query: str = "",
    source: str | None = None,
) -> ClientConnection:
    """A socket on http `base_url`'s /ws; InvalidStatus when the handshake is refused."""
    socket: ClientConnection = connect(
        ws_url(base_url, query),
        source_address=(source, 0) if source else None,  # passed on to socket.create_connection
        **_handshake(headers, origin),
    )
    return socket


def open_tls_socket(
    base_url: str,
    *,
    tls: ssl.SSLContext,
    headers: Mapping[str, str] | None = None,
    origin: str | None = None,
    source: str | None = None,
) -> TlsSocket:
    """A socket on https `base_url`'s /ws (wss://); InvalidStatus when the handshake is refused."""
    return TlsSocket(
        ws_url(base_url),
        ssl=tls,
        local_addr=(source, 0) if source else None,  # passed on to loop.create_connection
        **_handshake(headers, origin),
    )


def refused_status(base_url: str, **options: Any) -> int | None:
    """The HTTP status that refused the handshake, or None when the socket opened."""
    try:
        socket: LiveSocket = (
            open_tls_socket(base_url, **options) if "tls" in options else open_socket(base_url, **options)
        )
    except InvalidStatus as exc:
        return exc.response.status_code
    socket.close()
    return None


def cookie(name: str, token: str) -> dict[str, str]:
    return {"Cookie": f"{name}={token}"}


def next_message(socket: LiveSocket, *, timeout: float = 5.0, answer_pings: bool = True) -> dict[str, Any]:
    """The next message other than the server's ping (which is answered); TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 0.001)))
        if message != PING:
            return message
        if answer_pings:
            socket.send(json.dumps(PONG))


def messages_until(socket: LiveSocket, kind: str, *, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Every message up to and including the first of type `kind`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1].get("type") != kind:
        seen.append(next_message(socket, timeout=max(deadline - time.monotonic(), 0.001)))
    return seen


def close_code(socket: LiveSocket, *, timeout: float = 5.0, answer_pings: bool = True) -> int:
    """Read until the server closes the socket; its close code. TimeoutError if it stays open."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            next_message(socket, timeout=max(deadline - time.monotonic(), 0.001), answer_pings=answer_pings)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection dropped without a close frame"
        return closed.rcvd.code


def is_open(socket: LiveSocket, *, timeout: float = 5.0) -> bool:
    """A round trip: the client's ping is answered with a pong (events on the way are skipped)."""
    socket.send(json.dumps(PING))
    deadline = time.monotonic() + timeout
    try:
        while next_message(socket, timeout=max(deadline - time.monotonic(), 0.001)) != PONG:
            pass
    except ConnectionClosed:
        return False
    return True
