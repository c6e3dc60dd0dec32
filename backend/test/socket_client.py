"""A real WebSocket client for the live tests of `GET /ws` (websockets' sync client).

The live-socket tests (backend/test/realtime) and the deploy tests (Redis, nginx) talk to
real servers the same way: open a socket with some headers, read the next event (answering
the server's pings on the way), wait for the close and its code, or see the handshake
refused. Every wait is a poll on the socket with a deadline, never a fixed sleep.
"""

import json
import ssl
import time
from collections.abc import Mapping
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

PING = {"type": "ping"}
PONG = {"type": "pong"}


def ws_url(base_url: str, query: str = "") -> str:
    """`http(s)://host:port` → `ws(s)://host:port/ws[?query]`."""
    return base_url.replace("http", "ws", 1) + "/ws" + (f"?{query}" if query else "")


def open_socket(
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    origin: str | None = None,
    query: str = "",
    tls: ssl.SSLContext | None = None,
    source: str | None = None,
) -> ClientConnection:
    """A socket on `base_url`'s /ws; InvalidStatus when the handshake is refused."""
    return connect(
        ws_url(base_url, query),
        additional_headers=dict(headers or {}),
        origin=Origin(origin) if origin else None,
        ssl=tls,
        proxy=None,
        open_timeout=10,
        close_timeout=2,
        source_address=(source, 0) if source else None,  # passed on to socket.create_connection
    )


def refused_status(base_url: str, **options: Any) -> int | None:
    """The HTTP status that refused the handshake, or None when the socket opened."""
    try:
        socket = open_socket(base_url, **options)
    except InvalidStatus as exc:
        return exc.response.status_code
    socket.close()
    return None


def cookie(name: str, token: str) -> dict[str, str]:
    return {"Cookie": f"{name}={token}"}


def next_message(socket: ClientConnection, *, timeout: float = 5.0, answer_pings: bool = True) -> dict[str, Any]:
    """The next message other than the server's ping (which is answered); TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 0.001)))
        if message != PING:
            return message
        if answer_pings:
            socket.send(json.dumps(PONG))


def messages_until(socket: ClientConnection, kind: str, *, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Every message up to and including the first of type `kind`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1].get("type") != kind:
        seen.append(next_message(socket, timeout=max(deadline - time.monotonic(), 0.001)))
    return seen


def close_code(socket: ClientConnection, *, timeout: float = 5.0, answer_pings: bool = True) -> int:
    """Read until the server closes the socket; its close code. TimeoutError if it stays open."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            next_message(socket, timeout=max(deadline - time.monotonic(), 0.001), answer_pings=answer_pings)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection dropped without a close frame"
        return closed.rcvd.code


def is_open(socket: ClientConnection, *, timeout: float = 5.0) -> bool:
    """A round trip: the client's ping is answered with a pong (events on the way are skipped)."""
    socket.send(json.dumps(PING))
    deadline = time.monotonic() + timeout
    try:
        while next_message(socket, timeout=max(deadline - time.monotonic(), 0.001)) != PONG:
            pass
    except ConnectionClosed:
        return False
    return True
