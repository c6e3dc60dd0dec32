"""Redis pub/sub between processes: every app worker and instance hears every change.

Publishing is synchronous (it runs after a commit, on the thread of the unit of work)
with a short socket timeout, and only while the subscriber is connected: while Redis is
away, `publish` answers False at once and the hub delivers locally. The subscriber runs
on the event loop, reconnects with backoff, and after an outage asks the hub to tell its
sockets to resync (they may have missed events meanwhile).
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from backend.realtime.events import Event
from backend.realtime.hub import Hub

logger = logging.getLogger("backend.realtime")
CHANNEL = "todo:events"
PUBLISH_TIMEOUT = 0.5
FIRST_BACKOFF, MAX_BACKOFF = 0.2, 5.0


def channel_for(client: "redis.Redis", base: str = CHANNEL) -> str:
    """The channel of the Redis database `client` uses. Pub/sub ignores the database number:
    without it in the name, two apps on one Redis server (redis://host/0 and redis://host/1)
    would hear each other's users' events."""
    return f"{base}:{client.connection_pool.connection_kwargs.get('db', 0)}"


class RedisRelay:
    """Publishes events to CHANNEL:<db> and feeds what arrives there to the hub."""

    def __init__(self, url: str, hub: Hub, *, channel: str = CHANNEL) -> None:
        self.url = url
        self.hub = hub
        self.connected = False
        self._client = redis.Redis.from_url(url, socket_timeout=PUBLISH_TIMEOUT, socket_connect_timeout=PUBLISH_TIMEOUT)
        self.channel = channel_for(self._client, channel)
        self._task: asyncio.Task[None] | None = None
        self._first_try = asyncio.Event()  # set once the first subscribe succeeded or failed

    def publish(self, events: list[Event]) -> bool:
        """True when Redis took the events (every process will deliver them); False: deliver them here."""
        if not self.connected:
            return False
        try:
            self._client.publish(self.channel, orjson.dumps(events))
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return False
        return True

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="realtime-relay")

    async def wait_subscribed(self, timeout: float) -> bool:
        """Wait (at start-up) until the subscriber listens: a change published before that would
        reach this process's sockets only. False when Redis refused or did not answer within
        `timeout`: serve anyway (the subscriber keeps trying)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), timeout)
        return self.connected

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._client.close()

    def _lost(self, exc: BaseException) -> None:
        if self.connected:
            logger.warning(
                "Redis fan-out lost: serving this process's sockets only until it returns",
                extra={"error": type(exc).__name__},
            )
        self.connected = False

    async def _listen(self) -> None:
        backoff, outage = FIRST_BACKOFF, False
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=PUBLISH_TIMEOUT)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") != "subscribe":
                            self._handle(message)
                            continue
                        # Redis confirmed: from now on every publish is heard here.
                        self.connected, backoff = True, FIRST_BACKOFF
                        self._first_try.set()
                        if outage:
                            logger.warning("Redis fan-out restored: sockets told to resync")
                            self.hub.resync_all()
                            outage = False
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._lost(exc)
                self._first_try.set()
                outage = True
            finally:
                await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _handle(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        try:
            events: list[Event] = orjson.loads(message["data"])
        except (orjson.JSONDecodeError, TypeError):
            logger.warning("a malformed message on the fan-out channel was dropped")
            return
        self.hub.deliver(events)


def redis_publisher(url: str, *, channel: str = CHANNEL) -> Callable[[list[Event]], None]:
    """A publisher for processes without sockets (job workers): events go to every app's sockets via Redis."""
    client = redis.Redis.from_url(url, socket_timeout=PUBLISH_TIMEOUT, socket_connect_timeout=PUBLISH_TIMEOUT)
    name = channel_for(client, channel)  # the apps of this database listen there

    def publish(events: list[Event]) -> None:
        try:
            client.publish(name, orjson.dumps(events))
        except (RedisError, OSError) as exc:
            logger.warning("change events not sent: Redis is away", extra={"error": type(exc).__name__})

    return publish
