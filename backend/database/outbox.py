"""What a unit of work announces once it commits: recorded on the session, handed over after COMMIT.

A service records change events on its session (`record`); the Database binds a publisher
to every session it makes (`bind_publisher`). After the transaction commits, the events go
to that publisher; a rollback drops them, so a change that did not happen is never announced.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_EVENTS = "outbox.events"
_PUBLISH = "outbox.publish"

Publisher = Callable[[list[Any]], None]


def record(session: Session, *events: Any) -> None:
    """Announce `events` once this session's transaction commits (nothing if it rolls back)."""
    session.info.setdefault(_EVENTS, []).extend(events)


def bind_publisher(session: Session, publish: Publisher | None) -> None:
    """Where this session's committed events go."""
    if publish is not None:
        session.info[_PUBLISH] = publish


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    events = session.info.pop(_EVENTS, None)
    publish = session.info.get(_PUBLISH)
    if events and publish is not None:
        publish(events)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_EVENTS, None)
