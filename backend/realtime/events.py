"""What a change announces, and to whom.

Services record these on their session with `database.outbox.record`: they leave only
after the transaction commits.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from backend.core.http import etag_of
from backend.database.dates import utc_text
from backend.models.base import utcnow


class Event(TypedDict):
    """One change: the ids of the users who may see it, and the message their sockets get."""

    users: list[int]
    message: dict[str, Any]


def todo_event(kind: str, todo: Mapping[str, Any]) -> Event:
    """`todo.created` / `updated` / `restored`, for its owner: the body `GET /todos/{id}` returns, its ETag."""
    return {
        "users": [todo["owner_id"]],
        "message": {"type": kind, "id": todo["id"], "todo": todo, "version": etag_of(todo), "at": utc_text(utcnow())},
    }


def deleted_event(todo_id: int, owner_id: int) -> Event:
    """`todo.deleted`: no body, no version any more."""
    return {
        "users": [owner_id],
        "message": {"type": "todo.deleted", "id": todo_id, "version": None, "at": utc_text(utcnow())},
    }


def due_event(todo_id: int, owner_id: int, *, title: str, remind_at: datetime) -> Event:
    """`reminder.due`: a reminder went off (its mail was sent)."""
    return {
        "users": [owner_id],
        "message": {
            "type": "reminder.due",
            "id": todo_id,
            "title": title,
            "remind_at": utc_text(remind_at),
            "at": utc_text(utcnow()),
        },
    }


def list_event(kind: str, list_id: int, users: list[int]) -> Event:
    """`list.updated` / `list.deleted` / `list.shared` / `list.unshared`: re-read the lists."""
    return {"users": users, "message": {"type": kind, "id": list_id, "at": utc_text(utcnow())}}
