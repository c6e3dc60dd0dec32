"""The Redis relay against the real local Redis: what a job worker publishes reaches the app's sockets."""

import asyncio
import uuid
from typing import Any

import pytest
import redis

from backend.models.base import utcnow
from backend.realtime.events import due_event
from backend.realtime.hub import Hub
from backend.realtime.relay import RedisRelay, redis_publisher

DB = 12  # a Redis database of this test's own (13: tracing tests; 14, 15: deploy tests)
URL = f"redis://127.0.0.1:6379/{DB}"
# Pub/sub ignores the database number, and CI runs the suite on PostgreSQL and MariaDB at
# once against one Redis: each run gets channels of its own, or it hears the other's event.
CHANNEL = f"test-events-{uuid.uuid4().hex[:12]}"


class Collector:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.received: list[dict[str, Any]] = []

    def offer(self, message: dict[str, Any]) -> None:
        self.received.append(message)

    def evict(self, code: int) -> None:
        raise AssertionError(f"evicted with {code}")


@pytest.fixture(autouse=True)
def redis_running() -> None:
    try:
        redis.Redis.from_url(URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")


def test_a_workers_events_reach_the_apps_sockets_on_the_same_database_only() -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        apps = [Hub(max_per_user=5), Hub(max_per_user=5)]
        relays = [
            RedisRelay(URL, apps[0], channel=CHANNEL),
            RedisRelay(f"redis://127.0.0.1:6379/{DB - 1}", apps[1], channel=CHANNEL),
        ]
        sockets = [Collector(7), Collector(7)]
        for hub, relay, socket in zip(apps, relays, sockets, strict=True):
            hub.start(asyncio.get_running_loop())
            hub.relay = relay
            hub.add(socket)
            relay.start()
            assert await relay.wait_subscribed(5.0)
        publish = redis_publisher(URL, channel=CHANNEL)  # what backend/worker.py binds to its database
        publish([due_event(42, 7, title="Water the plants", remind_at=utcnow())])
        for _ in range(200):
            if sockets[0].received:
                break
            await asyncio.sleep(0.01)
        for relay in relays:
            await relay.stop()
        return sockets[0].received, sockets[1].received

    same_db, other_db = asyncio.run(scenario())

    assert [(m["type"], m["id"]) for m in same_db] == [("reminder.due", 42)]
    assert other_db == []
