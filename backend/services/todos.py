"""Todos: every query the JSON routes and the pages run, owner-scoped.

Reads return plain dicts shaped like `TodoRead` (typed as `TodoRow`), straight from one
Core statement: the list endpoint is the hottest path in the app and ORM objects for 50
rows cost more than the query itself.
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from functools import cache
from typing import Any, TypedDict, cast

from sqlalchemy import Row, Select, String, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from backend.core.errors import InvalidInput, NotAuthenticated, NotFound, PreconditionFailed
from backend.core.zones import day_label
from backend.database.dates import date_text, iso_date, iso_utc, time_text, utc_text
from backend.database.outbox import record
from backend.models import Todo, User
from backend.models.base import utcnow
from backend.realtime.events import deleted_event, todo_event
from backend.schemas.todos import SortKey, TodoCreate, TodoQuery
from backend.services.principal import SESSION_ENDED, Principal, actor_row, ensure_valid, lock_admins, still_valid


class TodoRow(TypedDict):
    """One todo as `TodoRead` shows it, in its field order, dates as ISO text.

    A plain dict at run time (orjson writes it as it is); test_todos' TestRowShape checks
    every way of making one against TodoRead's fields.
    """

    id: int
    owner_id: int
    title: str
    description: str
    priority: int
    complete: bool
    due_date: str | None
    due_time: str | None
    remind_at: str | None
    created_at: str
    updated_at: str


class AdminTodoRow(TodoRow):
    """A todo with its owner's username, as `AdminTodoRead` shows it."""

    owner: str


class DisplayTodoRow(TodoRow):
    """A todo with what the list page shows besides its fields."""

    overdue: bool
    due_label: str


_TABLE = cast(Table, Todo.__table__)
_USERS = cast(Table, User.__table__)
_TODO = _TABLE.c  # columns of the todos table
_USER = _USERS.c  # columns of the users table
# Core columns (no ORM entities to build) with dates rendered as text by the database,
# in TodoRead's field order: rows go to JSON nearly as they come.
TODO_COLUMNS = (
    _TODO.id,
    _TODO.owner_id,
    _TODO.title,
    _TODO.description,
    _TODO.priority,
    _TODO.complete,
    iso_date(_TODO.due_date).label("due_date"),
    _TODO.due_time,
    iso_utc(_TODO.remind_at).label("remind_at"),
    iso_utc(_TODO.created_at).label("created_at"),
    iso_utc(_TODO.updated_at).label("updated_at"),
)
# What the database hands back for TODO_COLUMNS.
TodoColumns = Row[int, int, str, str, int, bool, str | None, time | None, str | None, str, str]
_SORTS: dict[str, tuple[Any, ...]] = {
    "created_at": (_TODO.created_at.asc(), _TODO.id.asc()),
    "-created_at": (_TODO.created_at.desc(), _TODO.id.desc()),
    "priority": (_TODO.priority.asc(), _TODO.id.asc()),
    "-priority": (_TODO.priority.desc(), _TODO.id.desc()),
    # Dated todos first either way; undated ones sort last.
    "due_date": (_TODO.due_date.is_(None), _TODO.due_date.asc(), _TODO.id.asc()),
    "-due_date": (_TODO.due_date.is_(None), _TODO.due_date.desc(), _TODO.id.desc()),
    "title": (_TODO.title.asc(), _TODO.id.asc()),
}
# A todo in the trash (deleted_at set) is invisible to every read and write but the trash's.
LIVE = _TODO.deleted_at.is_(None)
_ONE = select(*TODO_COLUMNS).where(_TODO.id == bindparam("tid"), _TODO.owner_id == bindparam("uid"), LIVE)
# Writes, built once too; the SET columns come from the parameters given at execution.
# Each carries the owner and the actor's still-valid session in its WHERE clause, so it
# changes nothing when the todo went away or the session ended meanwhile.
_INSERT = insert(_TABLE)
_UPDATE = update(_TABLE).where(_TODO.id == bindparam("tid"), _TODO.owner_id == bindparam("uid"), LIVE, still_valid())
# The same, only while the todo is still the version the client saw (If-Match).
_UPDATE_SEEN = _UPDATE.where(_TODO.updated_at == bindparam("seen_at"))
CHANGED_ELSEWHERE = "This todo was changed elsewhere"
# Deleting moves a todo to the trash (services/trash.py restores it, the nightly clean-up purges it).
_TRASH = (
    update(_TABLE)
    .where(_TODO.id == bindparam("tid"), _TODO.owner_id == bindparam("uid"), LIVE, still_valid())
    .values(deleted_at=bindparam("trashed_at"))
)
_COUNT_UP = update(_USERS).where(actor_row()).values(todo_count=_USER.todo_count + bindparam("added"))
_NEWEST = (
    select(*TODO_COLUMNS).where(_TODO.owner_id == bindparam("uid")).order_by(_TODO.id.desc()).limit(bindparam("limit"))
)
# A new or changed remind_at starts its delivery afresh (services/reminders.py).
_FRESH_REMINDER = {"reminder_claim": None, "reminder_claimed_at": None, "reminder_sent_at": None}
REMIND_IN_PAST = "The reminder time has passed; choose a time in the future"
_COUNT_DOWN = update(_USERS).where(_USER.id == bindparam("uid")).values(todo_count=_USER.todo_count - 1)


def todo_row(row: TodoColumns) -> TodoRow:
    """A row starting with TODO_COLUMNS as a dict (a literal: cheaper than zipping names)."""
    return {
        "id": row[0],
        "owner_id": row[1],
        "title": row[2],
        "description": row[3],
        "priority": row[4],
        "complete": row[5],
        "due_date": row[6],
        "due_time": time_text(row[7]),
        "remind_at": row[8],
        "created_at": row[9],
        "updated_at": row[10],
    }


def _written_row(todo_id: int, owner_id: int, data: TodoCreate, created_at: str, updated_at: str) -> TodoRow:
    """Written values in the same text form and field order as rows read back."""
    return {
        "id": todo_id,
        "owner_id": owner_id,
        "title": data.title,
        "description": data.description,
        "priority": data.priority,
        "complete": data.complete,
        "due_date": date_text(data.due_date),
        "due_time": time_text(data.due_time),
        "remind_at": None if data.remind_at is None else utc_text(data.remind_at),
        "created_at": created_at,
        "updated_at": updated_at,
    }


def like_pattern(text: str) -> str:
    """`%text%` for LIKE with `\\`, `%` and `_` escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@cache
def _list_statements(sort: SortKey, complete: bool, priority: bool, search: bool) -> tuple[Select[Any], Select[Any]]:
    """The page and count statements for one combination of filters, built once.

    Every value is a bound parameter, so a statement object is reused for every request
    with that shape and SQLAlchemy never rebuilds or re-keys it.
    """
    conditions = [_TODO.owner_id == bindparam("uid"), LIVE]
    if complete:
        conditions.append(_TODO.complete == bindparam("complete"))
    if priority:
        conditions.append(_TODO.priority == bindparam("priority"))
    if search:
        pattern = bindparam("pattern", type_=String())
        conditions.append(or_(_TODO.title.ilike(pattern, escape="\\"), _TODO.description.ilike(pattern, escape="\\")))
    page = (
        select(*TODO_COLUMNS)
        .where(*conditions)
        .order_by(*_SORTS[sort])
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    count = select(func.count()).select_from(_TABLE).where(*conditions)
    return page, count


def list_for_owner(session: Session, *, owner_id: int, todo_count: int, query: TodoQuery) -> tuple[list[TodoRow], int]:
    """A page of the owner's todos and how many match before paging.

    The unfiltered total is the counter kept on the user row, so a user with 10,000 todos
    never pays for counting them; a filtered total is counted only when the page is full.
    """
    filtered = query.complete is not None or query.priority is not None or bool(query.q)
    page, count = _list_statements(query.sort, query.complete is not None, query.priority is not None, bool(query.q))
    params: dict[str, object] = {"uid": owner_id, "limit": query.limit, "offset": query.offset}
    if query.complete is not None:
        params["complete"] = query.complete
    if query.priority is not None:
        params["priority"] = query.priority
    if query.q:
        params["pattern"] = like_pattern(query.q)
    rows = [todo_row(row) for row in session.execute(page, params).all()]
    if not filtered:
        return rows, todo_count
    return rows, page_total(session, count, params, found=len(rows), limit=query.limit, offset=query.offset)


def page_total(
    session: Session, count: Select[Any], params: Mapping[str, object], *, found: int, limit: int, offset: int
) -> int:
    """How many match before paging: known from a short page (or an empty first one), else counted."""
    if found < limit and (found or offset == 0):
        return offset + found
    total: int = session.execute(count, params).scalar_one()
    return total


def get_for_owner(session: Session, *, todo_id: int, owner_id: int) -> TodoRow:
    """One of the owner's todos; someone else's is NotFound, exactly like a missing one."""
    row = session.execute(_ONE, {"tid": todo_id, "uid": owner_id}).first()
    if row is None:
        raise NotFound("Todo not found")
    return todo_row(row)


def create(
    session: Session,
    *,
    principal: Principal,
    data: TodoCreate,
    before_commit: Callable[[Session, TodoRow], None] | None = None,
) -> TodoRow:
    """Insert a todo for the principal and keep their counter in step.

    `before_commit` writes in the same transaction (an idempotency key's stored answer).
    """
    now = utcnow()
    check_reminder(data.remind_at, now=now)
    values = {**data.model_dump(), "owner_id": principal.id, "created_at": now, "updated_at": now}
    count_up(session, principal, 1)
    result = session.execute(_INSERT, values)
    (todo_id,) = result.inserted_primary_key  # type: ignore[attr-defined]
    stamp = utc_text(now)
    todo = _written_row(todo_id, principal.id, data, stamp, stamp)
    if before_commit is not None:
        before_commit(session, todo)
    record(session, todo_event("todo.created", todo))
    session.commit()
    return todo


def create_many(
    session: Session,
    *,
    principal: Principal,
    rows: list[dict[str, object]],
    before_commit: Callable[[Session, int], None] | None = None,
) -> int:
    """Insert todos (TodoCreate fields and their times) for the principal in one transaction.

    `before_commit` gets how many were inserted and writes in the same transaction.
    """
    if rows:
        count_up(session, principal, len(rows))
        session.execute(_INSERT, [{**row, "owner_id": principal.id} for row in rows])
        # The newest rows of this owner are the ones just inserted (ids only grow).
        created = session.execute(_NEWEST, {"uid": principal.id, "limit": len(rows)}).all()
        record(session, *(todo_event("todo.created", todo_row(row)) for row in reversed(created)))
    if before_commit is not None:
        before_commit(session, len(rows))
    session.commit()
    return len(rows)


def check_reminder(remind_at: datetime | None, *, now: datetime) -> None:
    """A reminder being set must lie ahead (InvalidInput on `remind_at` otherwise)."""
    if remind_at is not None and remind_at <= now:
        raise InvalidInput([{"type": "value_error", "loc": ["body", "remind_at"], "msg": REMIND_IN_PAST}])


def count_up(session: Session, principal: Principal, added: int) -> None:
    # Counter first: on InnoDB the insert's foreign-key check share-locks the owner's row,
    # and upgrading that lock afterwards deadlocks two concurrent creates of one user.
    # It is also the session check: no row matches once the session has ended.
    if session.execute(_COUNT_UP, {**principal.guard(), "added": added}).rowcount == 0:  # type: ignore[attr-defined]
        raise NotAuthenticated(SESSION_ENDED)


def _guarded_write(session: Session, statement: Executable, principal: Principal, params: dict[str, object]) -> None:
    """Run an owner- and session-guarded UPDATE/DELETE; nothing matched is 401 or 404."""
    if session.execute(statement, {**params, **principal.guard()}).rowcount == 0:  # type: ignore[attr-defined]
        ensure_valid(session, principal=principal)
        raise NotFound("Todo not found")


def _update(
    session: Session,
    principal: Principal,
    todo: TodoRow,
    values: dict[str, object],
    *,
    announce: TodoRow,
    if_unchanged: bool = False,
) -> None:
    params = {"tid": todo["id"], "uid": principal.id, **values}
    if not if_unchanged:
        _guarded_write(session, _UPDATE, principal, params)
    else:
        seen_at = datetime.fromisoformat(todo["updated_at"])
        if session.execute(_UPDATE_SEEN, {**params, **principal.guard(), "seen_at": seen_at}).rowcount == 0:  # type: ignore[attr-defined]
            ensure_valid(session, principal=principal)
            get_for_owner(session, todo_id=todo["id"], owner_id=principal.id)  # gone: 404
            raise PreconditionFailed(CHANGED_ELSEWHERE)
    record(session, todo_event("todo.updated", announce))
    session.commit()


def replace(
    session: Session, *, principal: Principal, todo: TodoRow, data: TodoCreate, if_unchanged: bool = False
) -> TodoRow:
    """Replace every editable field of a todo the principal owns.

    A remind_at sent back unchanged (even one in the past) keeps its delivery state; a
    changed one must be in the future and is delivered afresh. With `if_unchanged` the
    write happens only while the todo is still the version `todo` was read as
    (PreconditionFailed otherwise): the check and the write are one statement."""
    now = utcnow()
    values: dict[str, object] = {**data.model_dump(), "updated_at": now}
    remind_at = None if data.remind_at is None else utc_text(data.remind_at)
    if remind_at != todo["remind_at"]:
        check_reminder(data.remind_at, now=now)
        values.update(_FRESH_REMINDER)
    written = _written_row(todo["id"], todo["owner_id"], data, todo["created_at"], utc_text(now))
    _update(session, principal, todo, values, if_unchanged=if_unchanged, announce=written)
    return written


def set_complete(session: Session, *, principal: Principal, todo: TodoRow, complete: bool) -> TodoRow:
    """Mark a todo done or not done."""
    now = utcnow()
    written: TodoRow = {**todo, "complete": complete, "updated_at": utc_text(now)}
    _update(session, principal, todo, {"complete": complete, "updated_at": now}, announce=written)
    return written


def delete_for_owner(session: Session, *, principal: Principal, todo_id: int) -> None:
    """Move one of the principal's todos to the trash; someone else's is NotFound."""
    _guarded_write(session, _TRASH, principal, {"tid": todo_id, "uid": principal.id, "trashed_at": utcnow()})
    session.execute(_COUNT_DOWN, {"uid": principal.id})
    record(session, deleted_event(todo_id, principal.id))
    session.commit()


def delete_any(session: Session, *, principal: Principal, todo_id: int) -> None:
    """Admin: delete any todo for good, from the trash too (the admin is re-checked, and locked in, first)."""
    lock_admins(session, principal=principal)
    found = session.execute(select(_TODO.owner_id, _TODO.deleted_at).where(_TODO.id == todo_id)).first()
    if found is None:
        raise NotFound("Todo not found")
    session.execute(delete(_TABLE).where(_TODO.id == todo_id))
    if found.deleted_at is None:  # a trashed todo was already taken off the count
        session.execute(_COUNT_DOWN, {"uid": found.owner_id})
        record(session, deleted_event(todo_id, found.owner_id))
    session.commit()


_WITH_OWNER = select(*TODO_COLUMNS, _USER.username.label("owner")).join(_USERS, _USER.id == _TODO.owner_id)


def get_any(session: Session, *, todo_id: int) -> AdminTodoRow:
    """Admin: any live todo with its owner's username, or NotFound."""
    row = session.execute(_WITH_OWNER.where(LIVE, _TODO.id == todo_id)).first()
    if row is None:
        raise NotFound("Todo not found")
    return {**todo_row(row), "owner": row.owner}


def list_all(session: Session, *, owner: str | None, limit: int, offset: int) -> tuple[list[AdminTodoRow], int]:
    """Admin: a page of every user's todos with their owner's username, newest first."""
    conditions = [LIVE, *([_USER.username_key == owner.lower()] if owner else [])]
    page = _WITH_OWNER.where(*conditions).order_by(*_SORTS["-created_at"]).limit(limit).offset(offset)
    rows: list[AdminTodoRow] = [{**todo_row(row), "owner": row.owner} for row in session.execute(page).all()]
    total = session.execute(
        select(func.count()).select_from(_TABLE).join(_USERS, _USER.id == _TODO.owner_id).where(*conditions)
    ).scalar_one()
    return rows, total


def is_overdue(todo: TodoRow, today: date) -> bool:
    """Open and past its due date."""
    due = todo["due_date"]
    return not todo["complete"] and due is not None and date.fromisoformat(due) < today


def for_display(rows: list[TodoRow], today: date) -> list[DisplayTodoRow]:
    """Rows plus what the page shows: overdue flag and a readable due label."""
    return [{**row, "overdue": is_overdue(row, today), "due_label": due_label(row, today)} for row in rows]


def due_label(todo: TodoRow, today: date) -> str:
    """When a todo is due, as the pages show it: "today 09:30", "01 Jul 2026", or ""."""
    if todo["due_date"] is None:
        return ""
    label = day_label(date.fromisoformat(todo["due_date"]), today)
    return f"{label} {todo['due_time']}" if todo["due_time"] else label
