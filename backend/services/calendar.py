"""The calendar feed: a user's open dated todos behind a secret address, as iCalendar.

One statement answers a known and an unknown address alike (the user's row left-joined
to their open dated todos), so a miss costs about what a hit costs. The VTODOs are the
export's (`export_formats.vtodo`): same UIDs, so a calendar app that imported an export
and subscribes to the feed sees one todo, not two.
"""

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.orm import Session

from backend.core.errors import NotFound
from backend.models import Todo, User
from backend.services.export_formats import vtodo
from backend.services.todos import LIVE, TODO_COLUMNS, TodoRow, todo_row

NOT_FOUND = "Not Found"
MAX_TOKEN_CHARS = 64
PRODID = "-//todo-app//calendar feed//EN"
_TODOS = cast(Table, Todo.__table__)
_USERS = cast(Table, User.__table__)
_TODO, _USER = _TODOS.c, _USERS.c
_OPEN_DATED = and_(_TODO.owner_id == _USER.id, LIVE, _TODO.complete.is_(False), _TODO.due_date.is_not(None))
_FEED = (
    select(*TODO_COLUMNS, _USER.username, _USER.timezone)
    .select_from(_USERS.outerjoin(_TODOS, _OPEN_DATED))
    .where(_USER.calendar_token == bindparam("token"), _USER.is_active.is_(True))
    .order_by(_TODO.due_date, _TODO.id)
)


@dataclass(frozen=True, slots=True)
class Feed:
    """Whose feed it is, their zone, and their open dated todos."""

    username: str
    timezone: str
    todos: list[TodoRow]


def find_feed(session: Session, *, token: str) -> Feed:
    """The feed at `token`, or NotFound (also for an inactive or deleted user, or an old token)."""
    rows = session.execute(_FEED, {"token": token}).all() if len(token) <= MAX_TOKEN_CHARS else []
    if not rows:
        raise NotFound(NOT_FOUND)
    first = rows[0]
    todos = [todo_row(row) for row in rows if row.id is not None]
    return Feed(username=first.username, timezone=first.timezone, todos=todos)


def feed_calendar(feed: Feed, domain: str) -> bytes:
    """The feed as one iCalendar document: a VTODO per todo, and the VTIMEZONE its due times name."""
    from icalendar import Calendar  # noqa: PLC0415 (loaded when first used, as in export_formats.vtodo)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Todos of {feed.username}")
    calendar.add("x-wr-timezone", feed.timezone)
    for row in feed.todos:
        calendar.add_component(vtodo(row, domain, zone_name=feed.timezone))
    calendar.add_missing_timezones()
    text: bytes = calendar.to_ical()
    return text
