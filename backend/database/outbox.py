"""What a unit of work does once it commits, and only then: actions kept on the session.

`after_commit(session, action)` runs `action` after the session's transaction commits and
forgets it if the transaction rolls back, so a change that did not happen is never
announced and its jobs are never sent. Two kinds use it:

- change events (`record`): a service records them on its session; the Database binds a
  publisher to every session it makes (`bind_publisher`), and all the events of one
  transaction go to it together after COMMIT;
- jobs (`jobs.queue.enqueue_after_commit`).
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_ACTIONS = "outbox.actions"
_EVENTS = "outbox.events"
_PUBLISH = "outbox.publish"

Publisher = Callable[[list[Any]], None]


def after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run `action` once this session's transaction commits (never if it rolls back)."""
    session.info.setdefault(_ACTIONS, []).append(action)


def record(session: Session, *events: Any) -> None:
    """Announce `events` once this session's transaction commits (nothing if it rolls back)."""
    publish: Publisher | None = session.info.get(_PUBLISH)
    if publish is None:  # nobody listens on this session
        return
    pending: list[Any] | None = session.info.get(_EVENTS)
    if pending is None:  # the transaction's first event: one publish for all of them
        pending = session.info[_EVENTS] = []
        after_commit(session, lambda: publish(session.info.pop(_EVENTS)))
    pending.extend(events)


def bind_publisher(session: Session, publish: Publisher | None) -> None:
    """Where this session's committed events go."""
    if publish is not None:
        session.info[_PUBLISH] = publish


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for action in session.info.pop(_ACTIONS, ()):
        action()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_ACTIONS, None)
    session.info.pop(_EVENTS, None)
