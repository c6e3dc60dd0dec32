"""The session check of open sockets: every few seconds, all of this process's at once.

A socket's session can end while it is open: logout, a password change, the account
deleted or deactivated, the token expired. Rather than plumbing every such path into the
hub, one task checks every open socket's token in two statements every WATCH_SECONDS and
closes those that no longer hold with 4401: within 5 seconds of the change.
"""

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from backend.core.errors import AppError
from backend.database.session import Database
from backend.realtime.connection import SESSION_ENDED, Connection
from backend.realtime.hub import Hub
from backend.services import principal as principal_service

logger = logging.getLogger("backend.realtime")
WATCH_SECONDS = 2.0


async def check_once(hub: Hub, db: Database) -> int:
    """Close the sockets whose session ended; how many were closed."""
    sockets = [socket for socket in hub.all_sockets() if isinstance(socket, Connection)]
    if not sockets:
        return 0
    now = datetime.now(UTC)
    live = [socket for socket in sockets if socket.claims.expires_at > now]
    good = await db.read(principal_service.valid_sessions, tokens=[socket.claims for socket in live])
    closed = 0
    for socket in sockets:
        if socket.claims.jti not in good or socket.claims.expires_at <= now:
            socket.evict(SESSION_ENDED)
            closed += 1
    return closed


async def watch(hub: Hub, db: Database, interval: float = WATCH_SECONDS) -> None:
    """Run `check_once` forever; a database that does not answer is retried next time."""
    while True:
        await asyncio.sleep(interval)
        try:
            await check_once(hub, db)
        except (AppError, SQLAlchemyError) as exc:
            logger.warning("socket session check failed", extra={"error": type(exc).__name__})
