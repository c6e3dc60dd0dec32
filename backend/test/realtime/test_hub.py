"""The hub: who gets which event, the per-user limit, resync, and publishing from other threads."""

import asyncio
import threading
from typing import Any

from backend.realtime.events import Event, deleted_event, todo_event
from backend.realtime.hub import RESYNC, Hub


class FakeSocket:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.received: list[dict[str, Any]] = []
        self.evicted: int | None = None

    def offer(self, message: dict[str, Any]) -> None:
        self.received.append(message)

    def evict(self, code: int) -> None:
        self.evicted = code


class FakeRelay:
    def __init__(self, takes: bool) -> None:
        self.takes = takes
        self.sent: list[list[Event]] = []

    def publish(self, events: list[Event]) -> bool:
        self.sent.append(events)
        return self.takes


TODO = {"id": 7, "owner_id": 1, "title": "Buy milk", "updated_at": "2026-12-05T10:00:00.000000Z"}


def test_each_event_reaches_every_socket_of_its_users_and_nobody_else() -> None:
    hub = Hub(max_per_user=5)
    mine, also_mine, theirs = FakeSocket(1), FakeSocket(1), FakeSocket(2)
    for socket in (mine, also_mine, theirs):
        hub.add(socket)

    hub.deliver([todo_event("todo.created", TODO), deleted_event(7, 1)])

    assert [m["type"] for m in mine.received] == ["todo.created", "todo.deleted"]
    assert also_mine.received == mine.received
    assert theirs.received == []
    assert mine.received[0]["todo"] == TODO and mine.received[0]["version"].startswith('W/"')


def test_more_sockets_than_allowed_close_the_oldest_with_4429() -> None:
    hub = Hub(max_per_user=2)
    first, second, third = FakeSocket(1), FakeSocket(1), FakeSocket(1)
    for socket in (first, second, third):
        hub.add(socket)

    assert (first.evicted, second.evicted, third.evicted) == (4429, None, None)
    assert hub.sockets[1] == [second, third]
    hub.remove(second)
    hub.remove(third)
    assert hub.count == 0 and 1 not in hub.sockets


def test_resync_reaches_every_socket() -> None:
    hub = Hub(max_per_user=5)
    sockets = [FakeSocket(1), FakeSocket(2)]
    for socket in sockets:
        hub.add(socket)

    hub.resync_all()

    assert [socket.received for socket in sockets] == [[RESYNC], [RESYNC]]


def test_a_relay_that_takes_the_events_delivers_them_itself() -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[list[Event]]]:
        hub = Hub(max_per_user=5)
        hub.start(asyncio.get_running_loop())
        relay = hub.relay = FakeRelay(takes=True)
        socket = FakeSocket(1)
        hub.add(socket)
        hub.publish([todo_event("todo.updated", TODO)])
        return socket.received, relay.sent

    received, sent = asyncio.run(scenario())

    assert received == []  # the relay's subscriber delivers, here and in every other process
    assert len(sent) == 1


def test_without_a_relay_or_when_it_refuses_events_are_delivered_here_even_from_another_thread() -> None:
    async def scenario() -> list[dict[str, Any]]:
        hub = Hub(max_per_user=5)
        hub.start(asyncio.get_running_loop())
        hub.relay = FakeRelay(takes=False)
        socket = FakeSocket(1)
        hub.add(socket)
        thread = threading.Thread(target=hub.publish, args=([todo_event("todo.updated", TODO)],))
        thread.start()
        thread.join()
        for _ in range(100):  # the loop runs the delivery it was handed
            if socket.received:
                break
            await asyncio.sleep(0.01)
        return socket.received

    assert [m["type"] for m in asyncio.run(scenario())] == ["todo.updated"]
