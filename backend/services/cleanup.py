"""The nightly clean-up: rows past their use deleted in small batches, one short transaction each.

Each kind of row is one `Purge`: its table, its primary key, and the condition that makes
a row expired. A batch selects at most `limit` expired keys (through the index on the
expiry column), then deletes those keys, re-checking the condition, and commits: no
transaction holds its locks for long, and a batch that took more than `SLOW_BATCH_SECONDS`
halves the next one's size, so none comes near a second.

Idempotency keys carry their own expiry (IDEMPOTENCY_HOURS after their first use), so
they purge like revoked tokens and drafts; the trash holds deleted todos for TRASH_DAYS.
Password-reset tokens need no purge: they are signed and stateless (core/reset_tokens.py),
there is no row to delete.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from backend.core.config import Settings
from backend.database.session import Database
from backend.models import FormDraft, IdempotencyKey, RevokedToken, Todo

logger = logging.getLogger("backend.cleanup")
BATCH_SIZE = 1000
MIN_BATCH_SIZE = 50
SLOW_BATCH_SECONDS = 0.25

Expired = Callable[[datetime, Settings], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class Purge:
    """One kind of row the clean-up deletes."""

    name: str
    table: Table
    key: InstrumentedAttribute[Any]
    expired: Expired


def _expired(column: InstrumentedAttribute[datetime]) -> Expired:
    """Rows whose own expiry moment has passed."""
    return lambda now, _settings: column < now


def purges() -> tuple[Purge, ...]:
    """Every kind of row the clean-up deletes, in the order it deletes them."""
    return (
        Purge(
            "revoked_tokens", cast(Table, RevokedToken.__table__), RevokedToken.jti, _expired(RevokedToken.expires_at)
        ),
        Purge("form_drafts", cast(Table, FormDraft.__table__), FormDraft.key, _expired(FormDraft.expires_at)),
        Purge(
            "idempotency_keys",
            cast(Table, IdempotencyKey.__table__),
            IdempotencyKey.id,
            _expired(IdempotencyKey.expires_at),
        ),
        Purge(
            "trash",
            cast(Table, Todo.__table__),
            Todo.id,
            lambda now, settings: Todo.deleted_at < now - timedelta(days=settings.TRASH_DAYS),
        ),
    )


def delete_expired_batch(session: Session, *, purge: Purge, now: datetime, settings: Settings, limit: int) -> int:
    """Delete up to `limit` expired rows of one kind; how many went. Commits."""
    condition = purge.expired(now, settings)
    keys = list(session.scalars(select(purge.key).where(condition).limit(limit)))
    if not keys:
        return 0
    # Re-checked in the DELETE: a row renewed since the SELECT stays.
    result = session.execute(delete(purge.table).where(purge.key.in_(keys), condition))
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def run(
    db: Database, *, now: datetime, settings: Settings, batch_size: int = BATCH_SIZE, kinds: tuple[Purge, ...] = ()
) -> dict[str, int]:
    """Purge every kind (or `kinds`), batch after batch; logs and returns how many rows each lost."""
    removed: dict[str, int] = {}
    for purge in kinds or purges():
        total, limit = 0, batch_size
        while True:
            started = time.perf_counter()
            count = db.call(
                partial(delete_expired_batch, purge=purge, now=now, settings=settings, limit=limit), write=True
            )
            total += count
            if count < limit:
                break
            if time.perf_counter() - started > SLOW_BATCH_SECONDS:
                limit = max(MIN_BATCH_SIZE, limit // 2)
        removed[purge.name] = total
    logger.info("clean-up done", extra={"removed": removed, "cutoff": now.isoformat()})
    return removed
