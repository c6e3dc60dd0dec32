"""The trash: what owners deleted, listed newest first, restorable until purged.

Deleting a todo (`todos.delete_visible`) only stamps `deleted_at` and takes it off the
owner's count; every other read and write skips such rows (`todos.LIVE`). Restoring
clears the stamp and counts it again, under the same id. The nightly clean-up removes
rows deleted more than TRASH_DAYS ago (services/cleanup.py); admin deletes and account
deletion remove rows at once.
"""

from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from backend.core.errors import NotFound
from backend.database.dates import iso_utc
from backend.models import Todo
from backend.models.base import utcnow
from backend.realtime.events import todo_event
from backend.services.principal import Principal, ensure_valid, still_valid
from backend.services.todos import (
    TODO_COLUMNS,
    TodoRow,
    announce,
    count_up,
    get_for_owner,
    page_total,
    todo_row,
)

NOT_IN_TRASH = "Todo not found in the trash"
_TABLE = cast(Table, Todo.__table__)
_TODO = _TABLE.c
_TRASHED = _TODO.deleted_at.is_not(None)
_PAGE = (
    select(*TODO_COLUMNS, iso_utc(_TODO.deleted_at).label("deleted_at"))
    .where(_TODO.owner_id == bindparam("uid"), _TRASHED)
    .order_by(_TODO.deleted_at.desc(), _TODO.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_COUNT = select(func.count()).select_from(_TABLE).where(_TODO.owner_id == bindparam("uid"), _TRASHED)
_RESTORE = (
    update(_TABLE)
    .where(_TODO.id == bindparam("tid"), _TODO.owner_id == bindparam("uid"), _TRASHED, still_valid())
    .values(deleted_at=None, updated_at=bindparam("now"))
)


class TrashedTodoRow(TodoRow):
    """A todo in the trash, with when it was deleted."""

    deleted_at: str


def list_trash(session: Session, *, owner_id: int, limit: int, offset: int) -> tuple[list[TrashedTodoRow], int]:
    """A page of the owner's deleted todos, newest deletion first, and how many there are."""
    params = {"uid": owner_id, "limit": limit, "offset": offset}
    rows: list[TrashedTodoRow] = [
        {**todo_row(row), "deleted_at": row.deleted_at} for row in session.execute(_PAGE, params)
    ]
    return rows, page_total(session, _COUNT, params, found=len(rows), limit=limit, offset=offset)


def restore(session: Session, *, principal: Principal, todo_id: int) -> TodoRow:
    """Put one of the principal's deleted todos back, same id; NotFound if it is not in their trash."""
    result = session.execute(_RESTORE, {"tid": todo_id, "uid": principal.id, "now": utcnow(), **principal.guard()})
    if result.rowcount == 0:  # type: ignore[attr-defined]
        ensure_valid(session, principal=principal)
        raise NotFound(NOT_IN_TRASH)
    count_up(session, principal, 1, owner_id=principal.id)
    todo = get_for_owner(session, todo_id=todo_id, owner_id=principal.id)
    announce(session, principal, todo_event("todo.restored", todo), todo)
    session.commit()
    return todo


def trashed_title(session: Session, *, owner_id: int, todo_id: int) -> str | None:
    """The title of one of the owner's todos in the trash (for the list page's Undo), else None."""
    title: str | None = session.execute(
        select(_TODO.title).where(_TODO.id == todo_id, _TODO.owner_id == owner_id, _TRASHED)
    ).scalar_one_or_none()
    return title
