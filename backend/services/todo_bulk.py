"""Many todos at once, from the list page: complete those shown, move the completed ones of
a view to the trash, put them back, and move one up or down its list.

Each todo is its own unit of work (the single-todo services commit), so a todo that went
away or out of reach meanwhile is skipped and never undoes the others.
"""

from datetime import date

from sqlalchemy.orm import Session

from backend.core.errors import NotFound, PermissionDenied
from backend.schemas.todos import TodoQuery
from backend.services import positions
from backend.services import todos as todo_service
from backend.services import trash as trash_service
from backend.services.access import list_access
from backend.services.principal import Principal
from backend.services.todos import TodoRow

MAX_CLEARED = 500  # todos one "Clear completed" moves to the trash (its Undo carries their ids)
_PAGE = 100


def complete_shown(session: Session, *, principal: Principal, ids: list[int]) -> int:
    """Mark these todos done; how many changed. Missing ones are skipped; a viewer's is PermissionDenied."""
    done = 0
    for todo_id in dict.fromkeys(ids):
        try:
            todo = todo_service.get_visible(session, principal=principal, todo_id=todo_id)
        except NotFound:
            continue
        if not todo["complete"]:
            todo_service.set_complete(session, principal=principal, todo=todo, complete=True)
            done += 1
    return done


def trash_completed(session: Session, *, principal: Principal, query: TodoQuery, today: date) -> list[int]:
    """Move the completed todos of the view `query` describes (any page) to the trash; their ids.

    A list view needs write access to the list (PermissionDenied otherwise); elsewhere the
    todos of lists the principal may only view are left alone."""
    if query.list_id is not None:
        list_access(session, principal=principal, list_id=query.list_id).require("write")
    completed = query.model_copy(update={"complete": True, "limit": _PAGE, "offset": 0})
    trashed: list[int] = []
    skipped = 0
    while len(trashed) < MAX_CLEARED:
        rows, _ = todo_service.list_visible(session, principal=principal, query=completed, today=today)
        if not rows:
            break
        for row in rows:
            try:
                todo_service.delete_visible(session, principal=principal, todo_id=row["id"])
                trashed.append(row["id"])
            except (PermissionDenied, NotFound):
                skipped += 1
        completed = completed.model_copy(update={"offset": skipped})
    return trashed


def restore_many(session: Session, *, principal: Principal, ids: list[int]) -> int:
    """Put these todos back from the principal's trash; how many came back (the rest were purged or restored)."""
    restored = 0
    for todo_id in dict.fromkeys(ids):
        try:
            trash_service.restore(session, principal=principal, todo_id=todo_id)
        except NotFound:
            continue
        restored += 1
    return restored


def move_by(session: Session, *, principal: Principal, todo: TodoRow, step: int) -> TodoRow:
    """Move a todo `step` places up (negative) or down its list."""
    index = positions.place_of(session, todo=todo)
    return positions.move(session, principal=principal, todo=todo, index=max(index + step, 0))
