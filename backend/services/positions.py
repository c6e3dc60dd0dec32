"""Order within a list: `PATCH /todos/todo/{id}` with `{"position": n}` moves a todo to
the n-th place (0-based) of its list's open and completed todos, and the list is numbered
0, 1, 2, … again. New todos get a position after every existing one (todos.new_position).
"""

from typing import cast

from sqlalchemy import Table, case, select, update
from sqlalchemy.orm import Session

from backend.database.dates import utc_text
from backend.models import Todo
from backend.models.base import utcnow
from backend.services.principal import Principal
from backend.services.todos import TodoRow, get_visible, write_guarded
from backend.services.transactions import commit_then

_TABLE = cast(Table, Todo.__table__)
_TODO = _TABLE.c
MAX_LIST_MOVE = 10_000  # a list longer than this is renumbered only up to the move


def _order(session: Session, list_id: int) -> list[int]:
    return list(
        session.execute(
            select(_TODO.id)
            .where(_TODO.list_id == list_id, _TODO.deleted_at.is_(None))
            .order_by(_TODO.position, _TODO.id)
        ).scalars()
    )


def place_of(session: Session, *, todo: TodoRow) -> int:
    """The todo's 0-based place in its list."""
    return _order(session, todo["list_id"]).index(todo["id"])


def move(session: Session, *, principal: Principal, todo: TodoRow, index: int) -> TodoRow:
    """Put the todo at place `index` of its list (the end when beyond it); the rest keep their order."""
    order = [todo_id for todo_id in _order(session, todo["list_id"]) if todo_id != todo["id"]]
    order.insert(min(index, len(order)), todo["id"])
    now = utcnow()
    place = order.index(todo["id"])
    values = {"position": place, "updated_at": now, "updated_by": principal.username}
    written: TodoRow = {**todo, "position": place, "updated_at": utc_text(now), "updated_by": principal.username}
    write_guarded(session, principal, todo, values, written=written)
    moved = {todo_id: number for number, todo_id in enumerate(order) if todo_id != todo["id"]}
    if moved:
        session.execute(
            update(_TABLE)
            .where(_TODO.id.in_(list(moved)))
            .values(position=case(moved, value=_TODO.id, else_=_TODO.position))
        )
    return commit_then(session, get_visible(session, principal=principal, todo_id=todo["id"]))
