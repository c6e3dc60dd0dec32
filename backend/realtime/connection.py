"""One open socket: what it is sent, what it may send, and when it is closed.

Three tasks run for each socket until one ends: the sender (queued messages out, as JSON
text), the receiver (a client may send `{"type": "ping"}` and gets `{"type": "pong"}`;
`{"type": "pong"}` answers the server's pings; anything else is ignored; more than 20
messages a second or a frame over 4 KiB closes the socket with 1008) and the pinger (a
`{"type": "ping"}` every WS_PING_SECONDS; two left unanswered close it with 4408). The hub
and the session watcher close it from outside with `evict(code)`: 4401 when the session
ended, 4429 when the user opened more than WS_MAX_PER_USER sockets.
"""

import asyncio
import contextlib
import time
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from backend.core.tokens import TokenClaims

MAX_FRAME_BYTES = 4096
MAX_MESSAGES_PER_SECOND = 20
QUEUE_SIZE = 1000
PING: dict[str, Any] = {"type": "ping"}
PONG: dict[str, Any] = {"type": "pong"}
POLICY_VIOLATION = 1008
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013
SESSION_ENDED = 4401
NO_PONG = 4408
TOO_MANY_SOCKETS = 4429


class Connection:
    """A signed-in user's socket, held by the hub while it is open."""

    def __init__(self, websocket: WebSocket, claims: TokenClaims, *, ping_seconds: float) -> None:
        self.websocket = websocket
        self.claims = claims
        self.user_id = claims.user_id
        self.ping_seconds = ping_seconds
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.closing = asyncio.Event()
        self.close_code = GOING_AWAY
        self.unanswered = 0
        self.client_gone = False
        self._window_start = 0.0
        self._window_count = 0

    def offer(self, message: dict[str, Any]) -> None:
        """Queue a message (on the event loop). A reader too slow to keep up is closed: it reconnects and refetches."""
        if self.closing.is_set():
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.evict(TRY_AGAIN_LATER)

    def evict(self, code: int) -> None:
        """Close the socket with `code` (from the hub, the watcher, or its own tasks)."""
        if not self.closing.is_set():
            self.close_code = code
            self.closing.set()

    async def run(self) -> None:
        """Serve the socket until it closes, by either side."""
        tasks = [
            asyncio.create_task(self._send()),
            asyncio.create_task(self._receive()),
            asyncio.create_task(self._ping()),
            asyncio.create_task(self.closing.wait()),
        ]
        for task in tasks:  # their errors (a send to a socket already gone) end the socket, nothing more
            task.add_done_callback(_consume_error)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
        if self.client_gone:
            return
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            await self.websocket.close(code=self.close_code)

    async def _send(self) -> None:
        while True:
            message = await self.queue.get()
            await self.websocket.send_text(orjson.dumps(message).decode())

    async def _receive(self) -> None:
        while True:
            frame = await self.websocket.receive()
            if frame["type"] == "websocket.disconnect":
                self.client_gone = True
                self.evict(GOING_AWAY)
                return
            data = frame.get("text") if frame.get("text") is not None else frame.get("bytes")
            if data is None:
                continue
            if len(data.encode() if isinstance(data, str) else data) > MAX_FRAME_BYTES or self._flooding():
                self.evict(POLICY_VIOLATION)
                return
            self._handle(data)

    def _flooding(self) -> bool:
        now = time.monotonic()
        if now - self._window_start >= 1.0:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        return self._window_count > MAX_MESSAGES_PER_SECOND

    def _handle(self, data: str | bytes) -> None:
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            self.offer(PONG)
        elif kind == "pong":
            self.unanswered = 0

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.ping_seconds)
            if self.unanswered >= 2:
                self.evict(NO_PONG)
                return
            self.unanswered += 1
            self.offer(PING)


def _consume_error(task: "asyncio.Task[object]") -> None:
    if not task.cancelled():
        task.exception()
