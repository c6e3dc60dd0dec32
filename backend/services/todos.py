"""Todos: every query the JSON routes and the pages run, owner-scoped.

Reads return plain dicts shaped like `TodoRead`, straight from one Core statement: the
list endpoint is the hottest path in the app and ORM objects for 50 rows cost more than
the query itself.
"""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from backend.core.errors import NotFound
from backend.models import Todo, User
from backend.models.base import utcnow
from backend.schemas.todos import SortKey, TodoCreate, TodoQuery

TodoRow = dict[str, Any]

TODO_COLUMNS = (
    Todo.id,
    Todo.owner_id,
    Todo.title,
    Todo.description,
    Todo.priority,
    Todo.complete,
    Todo.due_date,
    Todo.created_at,
    Todo.updated_at,
)
_SORTS: dict[str, tuple[Any, ...]] = {
    "created_at": (Todo.created_at.asc(), Todo.id.asc()),
    "-created_at": (Todo.created_at.desc(), Todo.id.desc()),
    "priority": (Todo.priority.asc(), Todo.id.asc()),
    "-priority": (Todo.priority.desc(), Todo.id.desc()),
    # Dated todos first either way; undated ones sort last.
    "due_date": (Todo.due_date.is_(None), Todo.due_date.asc(), Todo.id.asc()),
    "-due_date": (Todo.due_date.is_(None), Todo.due_date.desc(), Todo.id.desc()),
    "title": (Todo.title.asc(), Todo.id.asc()),
}
_ONE = select(*TODO_COLUMNS).where(Todo.id == bindparam("tid"), Todo.owner_id == bindparam("uid"))
_COUNT_UP = update(User).where(User.id == bindparam("uid")).values(todo_count=User.todo_count + 1)
_COUNT_DOWN = update(User).where(User.id == bindparam("uid")).values(todo_count=User.todo_count - 1)


def _filters(query: TodoQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.complete is not None:
        conditions.append(Todo.complete.is_(query.complete))
    if query.priority is not None:
        conditions.append(Todo.priority == query.priority)
    if query.q:
        conditions.append(
            or_(Todo.title.icontains(query.q, autoescape=True), Todo.description.icontains(query.q, autoescape=True))
        )
    return conditions


def _page(
    stmt: Select[*tuple[Any, ...]], sort: SortKey, limit: int, offset: int
) -> Select[*tuple[Any, ...]]:
    return stmt.order_by(*_SORTS[sort]).limit(limit).offset(offset)


def list_for_owner(session: Session, *, owner_id: int, todo_count: int, query: TodoQuery) -> tuple[list[TodoRow], int]:
    """A page of the owner's todos and how many match before paging.

    The unfiltered total is the counter kept on the user row, so a user with 10,000 todos
    never pays for counting them; a filtered total is counted only when the page is full.
    """
    conditions = _filters(query)
    stmt = _page(
        select(*TODO_COLUMNS).where(Todo.owner_id == owner_id, *conditions), query.sort, query.limit, query.offset
    )
    rows = [row._asdict() for row in session.execute(stmt)]
    if not conditions:
        total = todo_count
    elif len(rows) < query.limit and (rows or query.offset == 0):
        total = query.offset + len(rows)
    else:
        total = session.execute(
            select(func.count()).select_from(Todo).where(Todo.owner_id == owner_id, *conditions)
        ).scalar_one()
    return rows, total


def get_for_owner(session: Session, *, todo_id: int, owner_id: int) -> TodoRow:
    """One of the owner's todos; someone else's is NotFound, exactly like a missing one."""
    row = session.execute(_ONE, {"tid": todo_id, "uid": owner_id}).first()
    if row is None:
        raise NotFound("Todo not found")
    return row._asdict()


def create(session: Session, *, owner_id: int, data: TodoCreate) -> TodoRow:
    """Insert a todo and keep the owner's counter in step."""
    now = utcnow()
    values = {**data.model_dump(), "owner_id": owner_id, "created_at": now, "updated_at": now}
    result = session.execute(insert(Todo).values(values))
    session.execute(_COUNT_UP, {"uid": owner_id})
    session.commit()
    (todo_id,) = result.inserted_primary_key  # type: ignore[attr-defined]
    return {"id": todo_id, **values}


def replace(session: Session, *, todo: TodoRow, data: TodoCreate) -> TodoRow:
    """Replace every editable field of a todo the caller owns."""
    values = {**data.model_dump(), "updated_at": utcnow()}
    session.execute(update(Todo).where(Todo.id == todo["id"]).values(values))
    session.commit()
    return {**todo, **values}


def set_complete(session: Session, *, todo: TodoRow, complete: bool) -> TodoRow:
    """Mark a todo done or not done."""
    values = {"complete": complete, "updated_at": utcnow()}
    session.execute(update(Todo).where(Todo.id == todo["id"]).values(values))
    session.commit()
    return {**todo, **values}


def delete_for_owner(session: Session, *, todo_id: int, owner_id: int) -> None:
    """Delete one of the owner's todos; someone else's is NotFound."""
    result = session.execute(delete(Todo).where(Todo.id == todo_id, Todo.owner_id == owner_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("Todo not found")
    session.execute(_COUNT_DOWN, {"uid": owner_id})
    session.commit()


def delete_any(session: Session, *, todo_id: int) -> None:
    """Admin: delete any todo."""
    owner_id = session.execute(select(Todo.owner_id).where(Todo.id == todo_id)).scalar_one_or_none()
    if owner_id is None:
        raise NotFound("Todo not found")
    delete_for_owner(session, todo_id=todo_id, owner_id=owner_id)


def list_all(session: Session, *, owner: str | None, limit: int, offset: int) -> tuple[list[TodoRow], int]:
    """Admin: a page of every user's todos with their owner's username, newest first."""
    conditions = [User.username_key == owner.lower()] if owner else []
    base = select(*TODO_COLUMNS, User.username.label("owner")).join(User, User.id == Todo.owner_id).where(*conditions)
    rows = [row._asdict() for row in session.execute(_page(base, "-created_at", limit, offset))]
    total = session.execute(
        select(func.count()).select_from(Todo).join(User, User.id == Todo.owner_id).where(*conditions)
    ).scalar_one()
    return rows, total


def is_overdue(todo: TodoRow, today: date) -> bool:
    """Open and past its due date."""
    due = todo["due_date"]
    return not todo["complete"] and due is not None and due < today


def for_display(rows: list[TodoRow], today: date) -> list[TodoRow]:
    """Rows plus what the page shows: overdue flag and a readable due label."""
    shown = []
    for row in rows:
        due = row["due_date"]
        label = "" if due is None else "today" if due == today else due.strftime("%d %b %Y")
        shown.append({**row, "overdue": is_overdue(row, today), "due_label": label})
    return shown


def pagination(total: int, limit: int, offset: int) -> dict[str, int | None]:
    """Offsets for the previous / next page links and the 1-based range shown."""
    return {
        "first": offset + 1 if total else 0,
        "last": min(offset + limit, total),
        "total": total,
        "prev_offset": max(offset - limit, 0) if offset > 0 else None,
        "next_offset": offset + limit if offset + limit < total else None,
    }
