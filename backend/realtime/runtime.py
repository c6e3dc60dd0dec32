"""The real-time side of one app: its hub, the Redis relay (with REDIS_URL) and the session watcher.

realtime = Realtime(settings)          # in build_state; db.publisher = realtime.hub.publish
await realtime.start(db)               # lifespan start-up, on the event loop
await realtime.stop()                  # shut-down: sockets closed with 1001 (going away)
"""

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from backend.core.config import Settings
from backend.database.session import Database
from backend.realtime.connection import GOING_AWAY
from backend.realtime.hub import Hub
from backend.realtime.sessions import watch

if TYPE_CHECKING:
    from backend.realtime.relay import RedisRelay

logger = logging.getLogger("backend.realtime")
# How long start-up waits for the Redis subscriber before serving without it (and warning).
FIRST_SUBSCRIBE_SECONDS = 2.0


class Realtime:
    def __init__(self, settings: Settings) -> None:
        self.hub = Hub(max_per_user=settings.WS_MAX_PER_USER)
        self.relay: RedisRelay | None = None
        if settings.REDIS_URL:
            from backend.realtime import relay  # noqa: PLC0415 (redis-py only when used: ~7 MB)

            self.relay = relay.RedisRelay(settings.REDIS_URL, self.hub)
        self.hub.relay = self.relay
        self._watcher: asyncio.Task[None] | None = None

    async def start(self, db: Database) -> None:
        self.hub.start(asyncio.get_running_loop())
        if self.relay is not None:
            self.relay.start()
            if not await self.relay.wait_subscribed(FIRST_SUBSCRIBE_SECONDS):
                logger.warning("Redis fan-out lost: serving this process's sockets only until it answers")
        self._watcher = asyncio.get_running_loop().create_task(watch(self.hub, db), name="realtime-sessions")

    async def stop(self) -> None:
        for socket in self.hub.all_sockets():
            socket.evict(GOING_AWAY)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self.relay is not None:
            await self.relay.stop()
