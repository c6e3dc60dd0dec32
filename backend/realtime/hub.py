"""This process's open sockets, per user, and the fan-out of committed changes to them.

`Hub.publish` is the Database's publisher: it is called after a commit, on whatever thread
ran the unit of work. Without REDIS_URL the events go straight to this process's sockets.
With it they go through Redis pub/sub (`relay.RedisRelay`), whose subscriber hands every
event, this process's own included, to `deliver`: a change handled by any worker or
instance reaches the sockets held by all of them. When Redis cannot take an event, the
event is delivered here and a warning logged; the relay reconnects by itself and then
tells every socket here to resync, since it may have missed events meanwhile.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from backend.realtime.events import Event

logger = logging.getLogger("backend.realtime")
RESYNC: dict[str, Any] = {"type": "resync"}


class Socket(Protocol):
    """What the hub needs of a connection (realtime/connection.py)."""

    user_id: int

    def offer(self, message: dict[str, Any]) -> None: ...

    def evict(self, code: int) -> None: ...


class Relay(Protocol):
    """Redis pub/sub, as the hub uses it (realtime/relay.py)."""

    def publish(self, events: list[Event]) -> bool: ...


class Hub:
    """Sockets by user (oldest first) and the delivery of events to them."""

    def __init__(self, *, max_per_user: int) -> None:
        self.max_per_user = max_per_user
        self.sockets: dict[int, list[Socket]] = defaultdict(list)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.relay: Relay | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    @property
    def count(self) -> int:
        return sum(len(sockets) for sockets in self.sockets.values())

    def add(self, socket: Socket) -> None:
        """Hold `socket`; the user's oldest ones beyond WS_MAX_PER_USER are closed with 4429."""
        held = self.sockets[socket.user_id]
        held.append(socket)
        while len(held) > self.max_per_user:
            held.pop(0).evict(4429)

    def remove(self, socket: Socket) -> None:
        held = self.sockets.get(socket.user_id)
        if held is not None and socket in held:
            held.remove(socket)
            if not held:
                del self.sockets[socket.user_id]

    def all_sockets(self) -> list[Socket]:
        return [socket for held in self.sockets.values() for socket in held]

    def publish(self, events: list[Event]) -> None:
        """After a commit, from any thread: through Redis when there is a relay that takes it, else here."""
        if self.relay is not None and self.relay.publish(events):
            return
        self.deliver_threadsafe(events)

    def deliver_threadsafe(self, events: list[Event]) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.deliver(events)
        else:
            loop.call_soon_threadsafe(self.deliver, events)

    def deliver(self, events: Iterable[Event]) -> None:
        """On the event loop: each message to every socket here of every user allowed to see it."""
        for event in events:
            for user_id in event["users"]:
                for socket in self.sockets.get(user_id, ()):
                    socket.offer(event["message"])

    def resync_all(self) -> None:
        """Tell every socket here that it may have missed events (after a relay outage)."""
        for socket in self.all_sockets():
            socket.offer(RESYNC)
