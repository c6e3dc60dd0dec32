"""Idempotent creates: one stored answer per user and `Idempotency-Key`.

A keyed request goes through three short transactions:

1. Claim: INSERT the key's row with no answer yet ("in flight") and commit at once. The
   unique index on (user_id, key) decides between concurrent requests on every database,
   and no lock is held while the create runs: a loser's INSERT fails, and it reads the
   row instead. A row with an answer is replayed (the same request) or refused (422:
   the key was used for another request); a row still in flight is a 409.
2. The create, whose transaction also stores its answer in the claimed row (`keep`: an
   UPDATE that needs the row to be still this request's and still in flight). The todos
   and the stored answer commit together or not at all, so a replay never names a todo
   that does not exist and no key ever creates twice.
3. On failure (a refused import, an ended session, a busy database, …) the claim is
   deleted, so the client may retry with the same key: only successes are kept.

A claim whose process died between 1 and 3 stays in flight for STALE_SECONDS, then the
next request with its key takes it over; should the original still finish later, its
`keep` finds the row gone and its create rolls back (409). An expired key, not yet purged
by the nightly clean-up, is taken over the same way, so it behaves as new.

Statements: a first request adds two to its create (the claim INSERT and `keep`'s
UPDATE); a replay or a refusal costs two (the failed INSERT and one SELECT).
"""

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple, cast

import anyio
from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from backend.core.errors import Conflict, DatabaseBusy, InvalidInput
from backend.database.session import Database
from backend.models import IdempotencyKey
from backend.models.base import utcnow
from backend.services.principal import Principal, ensure_valid

logger = logging.getLogger("backend.idempotency")
STALE_SECONDS = 60  # far longer than the largest import takes
CLAIM_ATTEMPTS = 3
IN_PROGRESS = "A request with this Idempotency-Key is still in progress"
KEY_REUSED = "This Idempotency-Key was already used for a different request"

_KEYS = cast(Table, IdempotencyKey.__table__)
_KEY = _KEYS.c
_CLAIM = insert(_KEYS)
_FIND = select(
    _KEY.id, _KEY.request_hash, _KEY.status_code, _KEY.response_body, _KEY.location, _KEY.created_at, _KEY.expires_at
).where(_KEY.user_id == bindparam("uid"), _KEY.key == bindparam("key"))
# The SET columns come from the parameters given at execution.
_KEEP = update(_KEYS).where(_KEY.id == bindparam("kid"), _KEY.status_code.is_(None))
_RELEASE = delete(_KEYS).where(_KEY.id == bindparam("kid"), _KEY.status_code.is_(None))
_TAKE_OVER = delete(_KEYS).where(
    _KEY.id == bindparam("kid"),
    or_(
        _KEY.expires_at <= bindparam("now"),
        and_(_KEY.status_code.is_(None), _KEY.created_at < bindparam("stale_before")),
    ),
)


class Answer(NamedTuple):
    """What a request answered, kept to be replayed as it was."""

    status_code: int
    body: bytes
    location: str | None = None


class KeyRow(NamedTuple):
    id: int
    request_hash: str
    status_code: int | None
    response_body: str | None
    location: str | None
    created_at: datetime
    expires_at: datetime


# Stores a create's answer in its claimed key row, inside the create's transaction.
Keep = Callable[[Session, Answer], None]


def request_hash(method: str, path: str, body: bytes, media_type: str = "") -> str:
    """SHA-256 (hex) of the endpoint, the media type that decides how the body reads, and the body's exact bytes."""
    digest = hashlib.sha256(f"{method} {path} {media_type}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def claim(session: Session, *, user_id: int, key: str, request_hash: str, now: datetime, hours: int) -> int | None:
    """Insert the key's row, in flight, and commit: its id, or None when the key has a row already."""
    values = {"user_id": user_id, "key": key, "request_hash": request_hash, "created_at": now}
    try:
        result = session.execute(_CLAIM, {**values, "expires_at": now + timedelta(hours=hours)})
    except IntegrityError:  # the unique (user_id, key), or a user deleted meanwhile
        session.rollback()
        return None
    session.commit()
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


def find(session: Session, *, user_id: int, key: str) -> KeyRow | None:
    """The row of one of the user's keys."""
    row = session.execute(_FIND, {"uid": user_id, "key": key}).first()
    return None if row is None else KeyRow(*row)


def keep(session: Session, answer: Answer, *, key_id: int) -> None:
    """Store a create's answer in its claimed row, in the create's transaction (no commit).

    Conflict (and so the create rolls back) when the claim was taken over meanwhile.
    """
    values = {"status_code": answer.status_code, "response_body": answer.body.decode(), "location": answer.location}
    if session.execute(_KEEP, {**values, "kid": key_id}).rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(IN_PROGRESS)


def release(session: Session, *, key_id: int) -> None:
    """Delete a claim whose request failed, so the key can be used again."""
    session.execute(_RELEASE, {"kid": key_id})
    session.commit()


def take_over(session: Session, *, key_id: int, now: datetime) -> None:
    """Delete a key row that expired, or whose request died in flight (if it still is)."""
    session.execute(_TAKE_OVER, {"kid": key_id, "now": now, "stale_before": now - timedelta(seconds=STALE_SECONDS)})
    session.commit()


def _is_dead(row: KeyRow, now: datetime) -> bool:
    stale = row.status_code is None and row.created_at < now - timedelta(seconds=STALE_SECONDS)
    return stale or row.expires_at <= now


def _stored(row: KeyRow, key: str, request_hash: str) -> Answer:
    """The answer kept in a live row for this request; 422 for another request, 409 in flight."""
    if row.request_hash != request_hash:
        loc = ["header", "Idempotency-Key"]
        raise InvalidInput([{"type": "idempotency_key_reused", "loc": loc, "msg": KEY_REUSED, "input": key}])
    if row.status_code is None or row.response_body is None:
        raise Conflict(IN_PROGRESS)
    return Answer(row.status_code, row.response_body.encode(), row.location)


async def once(
    db: Database,
    *,
    principal: Principal,
    key: str,
    request_hash: str,
    hours: int,
    work: Callable[[Keep], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """Run `work` once per user and key: (its answer, False), or (the stored answer, True).

    `work` runs the create and calls the `Keep` it is given inside the create's transaction.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        now = utcnow()
        key_id = await db.write(claim, user_id=principal.id, key=key, request_hash=request_hash, now=now, hours=hours)
        if key_id is not None:
            return await _run(db, key_id, work), False
        row = await db.read(find, user_id=principal.id, key=key)
        if row is None:  # purged or taken over since; or the user is gone (401)
            await db.read(ensure_valid, principal=principal)
        elif _is_dead(row, now):
            await db.write(take_over, key_id=row.id, now=now)
        else:
            return _stored(row, key, request_hash), True
    raise Conflict(IN_PROGRESS)  # the key changed hands under us every time


async def _run(db: Database, key_id: int, work: Callable[[Keep], Awaitable[Answer]]) -> Answer:
    try:
        return await work(partial(keep, key_id=key_id))
    except BaseException:
        # Shielded: a cancelled request still frees its key.
        with anyio.CancelScope(shield=True):
            try:
                await db.write(release, key_id=key_id)
            except (SQLAlchemyError, DatabaseBusy):
                logger.warning("idempotency key left in flight", extra={"key_id": key_id})  # taken over later
        raise
