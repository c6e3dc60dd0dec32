"""Todos: every query the JSON routes and the pages run, owner-scoped.

Reads return plain dicts shaped like `TodoRead` (typed as `TodoRow`), straight from one
Core statement: the list endpoint is the hottest path in the app and ORM objects for 50
rows cost more than the query itself.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from time import time_ns
from typing import Any, TypedDict, cast

from sqlalchemy import Insert, Select, String, Table, Update, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from backend.core.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied, PreconditionFailed
from backend.core.zones import day_label, shift_days, today_in
from backend.database.dates import date_text, iso_date, iso_utc, time_text, utc_text
from backend.database.direct import all_rows, first_row, inserted_id, row_count
from backend.database.outbox import record
from backend.database.request_scope import ONE_STATEMENT_WRITES
from backend.models import Todo, User
from backend.models.base import utcnow
from backend.realtime.events import Event, deleted_event, todo_event
from backend.schemas.todos import SortKey, TodoCreate, TodoQuery, View
from backend.services import counts, repeats
from backend.services.access import (
    INBOX,
    TODO_NOT_FOUND,
    VIEW_ONLY,
    ListAccess,
    list_access,
    recipients,
    todo_denied,
    todo_readable,
    todo_writable,
    visible_todos,
)
from backend.services.principal import SESSION_ENDED, Principal, ensure_valid, lock_admins, still_valid
from backend.services.tags import has_tag, listed, stored, tag_pattern


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
    list_id: int
    position: int
    tags: list[str]
    repeat: str | None
    created_by: str | None
    updated_by: str | None


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
    _TODO.list_id,
    _TODO.position,
    _TODO.tags,
    _TODO.repeat,
    _TODO.created_by,
    _TODO.updated_by,
)
_SORTS: dict[str, tuple[Any, ...]] = {
    "created_at": (_TODO.created_at.asc(), _TODO.id.asc()),
    "-created_at": (_TODO.created_at.desc(), _TODO.id.desc()),
    "priority": (_TODO.priority.asc(), _TODO.id.asc()),
    "-priority": (_TODO.priority.desc(), _TODO.id.desc()),
    # Dated todos first either way; undated ones sort last.
    "due_date": (_TODO.due_date.is_(None), _TODO.due_date.asc(), _TODO.id.asc()),
    "-due_date": (_TODO.due_date.is_(None), _TODO.due_date.desc(), _TODO.id.desc()),
    "title": (_TODO.title.asc(), _TODO.id.asc()),
    "position": (_TODO.position.asc(), _TODO.id.asc()),
}
# A todo in the trash (deleted_at set) is invisible to every read and write but the trash's.
LIVE = _TODO.deleted_at.is_(None)
# One todo, for someone no list is shared with or by (the owner test alone), and for anyone.
_ONE_OWNED = select(*TODO_COLUMNS).where(_TODO.id == bindparam("tid"), _TODO.owner_id == bindparam("uid"), LIVE)
_ONE_VISIBLE = select(*TODO_COLUMNS).where(_TODO.id == bindparam("tid"), todo_readable(), LIVE)
# Writes, built once too; the SET columns come from the parameters given at execution.
# Each carries the writer's right to the todo's list and their still-valid session in its
# WHERE clause, so it changes nothing when the todo went away, the list was unshared or
# the session ended meanwhile.
_INSERT = insert(_TABLE)
CHANGED_ELSEWHERE = "This todo was changed elsewhere"
# Deleting moves a todo to the trash (services/trash.py restores it, the nightly clean-up purges it).
_TRASH = (
    update(_TABLE)
    .where(_TODO.id == bindparam("tid"), todo_writable(), LIVE, still_valid())
    .values(deleted_at=bindparam("trashed_at"))
)
_NEWEST = (
    select(*TODO_COLUMNS).where(_TODO.owner_id == bindparam("uid")).order_by(_TODO.id.desc()).limit(bindparam("limit"))
)
_WHERE = select(_TODO.owner_id, _TODO.list_id).where(_TODO.id == bindparam("tid"), LIVE)
# A new or changed remind_at starts its delivery afresh (services/reminders.py).
_FRESH_REMINDER = {"reminder_claim": None, "reminder_claimed_at": None, "reminder_sent_at": None}
REMIND_IN_PAST = "The reminder time has passed; choose a time in the future"


@cache
def _update_statement(*, seen: bool, completing: bool) -> Update:
    """The guarded UPDATE; `seen`: only while still the version read (If-Match);
    `completing`: only while still open (so one of two simultaneous completions wins)."""
    statement = update(_TABLE).where(_TODO.id == bindparam("tid"), todo_writable(), LIVE, still_valid())
    if seen:
        statement = statement.where(_TODO.updated_at == bindparam("seen_at"))
    if completing:
        statement = statement.where(_TODO.complete.is_(False))
    return statement


def todo_row(row: Sequence[Any]) -> TodoRow:
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
        "list_id": row[11],
        "position": row[12],
        "tags": listed(row[13]),
        "repeat": row[14],
        "created_by": row[15],
        "updated_by": row[16],
    }


@dataclass(frozen=True, slots=True)
class Place:
    """Where a todo is (or goes): its id, list, that list's owner, its position, its creator."""

    todo_id: int
    list_id: int
    owner_id: int
    position: int
    created_by: str | None = None


def _written_row(place: Place, data: TodoCreate, values: Mapping[str, Any], created_at: str) -> TodoRow:
    """Written values in the same text form and field order as rows read back."""
    return {
        "id": place.todo_id,
        "owner_id": place.owner_id,
        "title": data.title,
        "description": data.description,
        "priority": data.priority,
        "complete": data.complete,
        "due_date": date_text(data.due_date),
        "due_time": time_text(data.due_time),
        "remind_at": None if data.remind_at is None else utc_text(data.remind_at),
        "created_at": created_at,
        "updated_at": utc_text(values["updated_at"]),
        "list_id": place.list_id,
        "position": place.position,
        "tags": list(data.tags),
        "repeat": data.repeat,
        "created_by": values.get("created_by", place.created_by),
        "updated_by": values["updated_by"],
    }


def new_position() -> int:
    """A position after every existing one: microseconds since the epoch (moves renumber from 0)."""
    return time_ns() // 1000


def like_pattern(text: str) -> str:
    """`%text%` for LIKE with `\\`, `%` and `_` escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a listing has: one statement pair is built per shape."""

    sort: SortKey
    complete: bool
    priority: bool
    search: bool
    list: bool
    tags: int
    view: View | None
    shares: bool

    @property
    def kept_total(self) -> bool:
        """Unfiltered, over the caller's own todos only: the total is the count kept for them."""
        filters = (self.complete, self.priority, self.search, self.list, self.tags, self.view, self.shares)
        return not any(filters)


def _shape(query: TodoQuery, *, shares: bool) -> _Shape:
    return _Shape(
        query.sort,
        query.complete is not None,
        query.priority is not None,
        bool(query.q),
        query.list_id is not None,
        len(query.tag),
        query.view,
        shares,
    )


def unfiltered(query: TodoQuery) -> bool:
    """Whether `query` lists all of someone's own todos (no filter, no view), whose total is
    the count kept for them: for someone who shares nothing, `list_visible`'s page is then
    `services/signed_in.py`'s, read with the user check."""
    return _shape(query, shares=False).kept_total


def page_statement(conditions: Sequence[Any], sort: SortKey, *extra: Any) -> Select[Any]:
    """One page of the todos matching `conditions` in `sort`'s order (the id last, so every
    order is total), with `extra` columns after the todo's; the limit and offset bound."""
    return (
        select(*TODO_COLUMNS, *extra)
        .where(*conditions)
        .order_by(*_SORTS[sort])
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def sort_order(sort: SortKey) -> tuple[Any, ...]:
    """The ORDER BY of a listing sorted by `sort`."""
    return _SORTS[sort]


@cache
def _list_statements(shape: _Shape) -> tuple[Select[Any], Select[Any]]:
    """The page and count statements for one combination of filters, built once.

    Every value is a bound parameter, so a statement object is reused for every request
    with that shape and SQLAlchemy never rebuilds or re-keys it.
    """
    conditions = [visible_todos(shares=shape.shares), LIVE]
    if shape.complete:
        conditions.append(_TODO.complete == bindparam("complete"))
    if shape.priority:
        conditions.append(_TODO.priority == bindparam("priority"))
    if shape.search:
        pattern = bindparam("pattern", type_=String())
        conditions.append(or_(_TODO.title.ilike(pattern, escape="\\"), _TODO.description.ilike(pattern, escape="\\")))
    if shape.list:
        conditions.append(_TODO.list_id == bindparam("lid"))
    conditions.extend(has_tag(f"tag{n}") for n in range(shape.tags))
    if shape.view == "today":
        conditions.append(_TODO.due_date == bindparam("today"))
    elif shape.view == "upcoming":
        conditions.extend([_TODO.due_date >= bindparam("today"), _TODO.due_date < bindparam("week_end")])
    elif shape.view == "overdue":
        conditions.extend([_TODO.due_date < bindparam("today"), _TODO.complete.is_(False)])
    # An unfiltered page carries the kept total as a last column (the same on every row).
    total = (counts.KEPT_TOTAL.scalar_subquery().label("total"),) if shape.kept_total else ()
    page = page_statement(conditions, shape.sort, *total)
    count = counts.KEPT_TOTAL if shape.kept_total else select(func.count()).select_from(_TABLE).where(*conditions)
    return page, count


def list_visible(
    session: Session, *, principal: Principal, query: TodoQuery, today: date | None = None
) -> tuple[list[TodoRow], int]:
    """A page of the todos the principal can see and how many match before paging.

    `today` (for the views) defaults to the date in the principal's zone, worked out only
    when a view asks for it.

    The unfiltered total of someone who shares nothing is the count kept for them, read in
    the page's own statement, so a user with 10,000 todos never pays for counting them; any
    other total is counted only when the page is full. Asking for a list the principal
    cannot see is NotFound.
    """
    shape = _shape(query, shares=principal.shares)
    page, count = _list_statements(shape)
    params: dict[str, object] = {"uid": principal.id, "limit": query.limit, "offset": query.offset}
    if query.complete is not None:
        params["complete"] = query.complete
    if query.priority is not None:
        params["priority"] = query.priority
    if query.q:
        params["pattern"] = like_pattern(query.q)
    if query.list_id is not None:
        params["lid"] = query.list_id
    params.update({f"tag{n}": tag_pattern(tag) for n, tag in enumerate(query.tag)})
    if query.view is not None:
        today = today or today_in(principal.timezone)
        params.update(today=today, week_end=today + timedelta(days=7))
    found = all_rows(session, page, params)
    rows = [todo_row(row) for row in found]
    if not rows and query.list_id is not None:
        list_access(session, principal=principal, list_id=query.list_id)  # NotFound unless visible
    if found and shape.kept_total:
        return rows, int(found[0][len(TODO_COLUMNS)])
    return rows, page_total(session, count, params, found=len(rows), limit=query.limit, offset=query.offset)


def page_total(
    session: Session, count: Select[Any], params: Mapping[str, object], *, found: int, limit: int, offset: int
) -> int:
    """How many match before paging: known from a short page (or an empty first one), else counted."""
    if found < limit and (found or offset == 0):
        return offset + found
    (total,) = all_rows(session, count, params)[0]
    return int(total)


def get_visible(session: Session, *, principal: Principal, todo_id: int) -> TodoRow:
    """A todo the principal may read; anyone else's is NotFound, exactly like a missing one."""
    statement = _ONE_VISIBLE if principal.shares else _ONE_OWNED
    row = first_row(session, statement, {"tid": todo_id, "uid": principal.id})
    if row is None:
        raise NotFound(TODO_NOT_FOUND)
    return todo_row(row)


def get_for_owner(session: Session, *, todo_id: int, owner_id: int) -> TodoRow:
    """One of the owner's own todos (jobs and the trash, which act for the owner)."""
    row = session.execute(_ONE_OWNED, {"tid": todo_id, "uid": owner_id}).first()
    if row is None:
        raise NotFound(TODO_NOT_FOUND)
    return todo_row(row)


def target_list(session: Session, principal: Principal, list_id: int | None) -> ListAccess:
    """The list a todo goes to: the Inbox when none is named, else one the principal may write to."""
    if list_id is None or list_id == principal.inbox_id:
        return ListAccess(principal.inbox_id, principal.id, INBOX, "owner", True)
    return list_access(session, principal=principal, list_id=list_id).require("write")


def create(
    session: Session,
    *,
    principal: Principal,
    data: TodoCreate,
    before_commit: Callable[[Session, TodoRow], None] | None = None,
) -> TodoRow:
    """Insert a todo in the named list (default: the Inbox) and keep its owner's counter in step.

    `before_commit` writes in the same transaction (an idempotency key's stored answer).
    """
    now = utcnow()
    check_reminder(data.remind_at, now=now)
    target = target_list(session, principal, data.list_id)
    todo = insert_todo(session, principal, data, target, now=now)
    if before_commit is not None:
        before_commit(session, todo)
    session.commit()
    return todo


def insert_todo(
    session: Session,
    principal: Principal,
    data: TodoCreate,
    target: ListAccess,
    *,
    now: datetime,
    counted: bool = False,
) -> TodoRow:
    """Insert one todo into `target` (already checked), count it (unless `counted` already)
    and announce it; no commit."""
    values = {
        **data.model_dump(exclude={"list_id"}),
        "tags": stored(data.tags),
        "owner_id": target.owner_id,
        "list_id": target.id,
        "position": new_position(),
        "created_by": principal.username,
        "updated_by": principal.username,
        "created_at": now,
        "updated_at": now,
    }
    if counted:
        todo_id = inserted_id(session, _INSERT, values)
    else:
        todo_id = _insert_counted(session, principal, values, owner_id=target.owner_id)
    place = Place(todo_id, target.id, target.owner_id, cast(int, values["position"]))
    todo = _written_row(place, data, values, utc_text(now))
    announce(session, principal, todo_event("todo.created", todo), todo)
    return todo


def create_many(
    session: Session,
    *,
    principal: Principal,
    rows: list[dict[str, object]],
    before_commit: Callable[[Session, int], None] | None = None,
) -> int:
    """Insert todos (TodoCreate fields and their times) into the principal's Inbox in one transaction.

    `before_commit` gets how many were inserted and writes in the same transaction.
    """
    if rows:
        count_up(session, principal, len(rows), owner_id=principal.id)
        start = new_position()
        session.execute(
            _INSERT,
            [
                {
                    **row,
                    "tags": stored(cast(list[str], row.get("tags", []))),
                    "owner_id": principal.id,
                    "list_id": principal.inbox_id,
                    "position": start + number,
                    "created_by": principal.username,
                    "updated_by": principal.username,
                }
                for number, row in enumerate(rows)
            ],
        )
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


def _insert_counted(session: Session, principal: Principal, values: dict[str, object], *, owner_id: int) -> int:
    """Insert one todo and add it to its owner's count, the count's UPDATE being the
    check that the principal's session holds; the new todo's id.

    Where the dialect runs an UPDATE in an INSERT's WITH (ONE_STATEMENT_WRITES), that is
    one statement, atomic by itself: a create then needs no transaction of its own
    (database/request_scope.py). Elsewhere, the UPDATE and then the INSERT.
    """
    if session.get_bind().dialect.name not in ONE_STATEMENT_WRITES:
        count_up(session, principal, 1, owner_id=owner_id)
        return inserted_id(session, _INSERT, values)
    row = first_row(session, _counted_insert(tuple(values)), values | counts.checked_params(principal, owner_id, 1))
    if row is None:
        raise NotAuthenticated(SESSION_ENDED)
    return int(row[0])


@cache
def _counted_insert(columns: tuple[str, ...]) -> Insert:
    """INSERT … SELECT `columns` (bound parameters of the same names) FROM the count's UPDATE."""
    counted = counts.ADD_CHECKED.cte("counted")
    values = select(*(bindparam(name, type_=_TABLE.c[name].type) for name in columns)).select_from(counted)
    return insert(_TABLE).from_select(list(columns), values).returning(_TODO.id)


def count_up(session: Session, principal: Principal, added: int, *, owner_id: int) -> None:
    """Add to the list owner's counter; it is also the check that the principal's session holds."""
    if owner_id != principal.id:
        ensure_valid(session, principal=principal)
        counts.add_for(session, owner_id, added)
        return
    # Counter first, and it is the session check: no row matches once the session has ended.
    if not counts.add_own(session, principal, added):
        raise NotAuthenticated(SESSION_ENDED)


def announce(session: Session, principal: Principal, event: Event, todo: Mapping[str, Any]) -> None:
    """Record `event` for everyone who can see the todo's list."""
    users = recipients(session, list_id=todo["list_id"], owner_id=todo["owner_id"], shared=principal.shares)
    record(session, {**event, "users": users})


def _write(
    session: Session,
    principal: Principal,
    todo: TodoRow,
    values: dict[str, object],
    *,
    if_unchanged: bool = False,
    completing: bool = False,
) -> bool:
    """Run the guarded UPDATE; False when a simultaneous completion got there first.

    Nothing matched: 401 when the session ended, 404 when the todo is gone or out of
    sight, 412 when it changed since `todo` was read (If-Match), 403 for a viewer.
    """
    params = {"tid": todo["id"], "uid": principal.id, **principal.guard(), **values}
    if if_unchanged:
        params["seen_at"] = datetime.fromisoformat(todo["updated_at"])
    statement = _update_statement(seen=if_unchanged, completing=completing)
    if row_count(session, statement, params):
        return True
    ensure_valid(session, principal=principal)
    current = get_visible(session, principal=principal, todo_id=todo["id"])
    if if_unchanged and current["updated_at"] != todo["updated_at"]:
        raise PreconditionFailed(CHANGED_ELSEWHERE)
    if completing and current["complete"]:
        return False
    raise PermissionDenied(VIEW_ONLY)


def write_guarded(
    session: Session, principal: Principal, todo: TodoRow, values: dict[str, object], *, written: TodoRow
) -> None:
    """A guarded UPDATE of some columns (no commit), announced to everyone who sees the todo."""
    _write(session, principal, todo, values)
    announce(session, principal, todo_event("todo.updated", written), written)


def replace(
    session: Session, *, principal: Principal, todo: TodoRow, data: TodoCreate, if_unchanged: bool = False
) -> TodoRow:
    """Replace every editable field of a todo the principal may write to.

    A remind_at sent back unchanged (even one in the past) keeps its delivery state; a
    changed one must be in the future and is delivered afresh. A `list_id` other than the
    todo's moves it (to the end of a list the principal may write to). With `if_unchanged`
    the write happens only while the todo is still the version `todo` was read as
    (PreconditionFailed otherwise): the check and the write are one statement. Completing
    a repeating todo with a due date adds its next occurrence, once.
    """
    now = utcnow()
    values: dict[str, object] = {
        **data.model_dump(exclude={"list_id"}),
        "tags": stored(data.tags),
        "updated_at": now,
        "updated_by": principal.username,
    }
    remind_at = None if data.remind_at is None else utc_text(data.remind_at)
    if remind_at != todo["remind_at"]:
        check_reminder(data.remind_at, now=now)
        values.update(_FRESH_REMINDER)
    place = Place(todo["id"], todo["list_id"], todo["owner_id"], todo["position"], todo["created_by"])
    if _moves(todo, data):
        target = target_list(session, principal, data.list_id)
        place = Place(todo["id"], target.id, target.owner_id, new_position(), todo["created_by"])
        values.update(list_id=place.list_id, owner_id=place.owner_id, position=place.position)
    completing = _completes_repeating(todo, data)
    written = _written_row(place, data, values, todo["created_at"])
    if completing:
        # The next occurrence's count first: a count row is then locked before the todo's,
        # in the same order as a create, so simultaneous completions queue instead of
        # deadlocking on InnoDB. The loser's rollback undoes it.
        count_up(session, principal, 1, owner_id=place.owner_id)
    if not _write(session, principal, todo, values, if_unchanged=if_unchanged, completing=completing):
        session.rollback()
        return get_visible(session, principal=principal, todo_id=todo["id"])
    if place.owner_id != todo["owner_id"]:
        count_up(session, principal, -1, owner_id=todo["owner_id"])
        count_up(session, principal, 1, owner_id=place.owner_id)
        announce(session, principal, deleted_event(todo["id"], todo["owner_id"]), todo)
    announce(session, principal, todo_event("todo.updated", written), written)
    if completing:
        add_next_occurrence(session, principal, written, now=now, counted=True)
    session.commit()
    return written


def replaces_in_one_statement(todo: TodoRow, data: TodoCreate) -> bool:
    """Whether `replace` writes with its guarded UPDATE alone, a statement atomic by
    itself: no move to another list, no next occurrence of a repeating todo."""
    return not _moves(todo, data) and not _completes_repeating(todo, data)


def _moves(todo: TodoRow, data: TodoCreate) -> bool:
    return data.list_id is not None and data.list_id != todo["list_id"]


def _completes_repeating(todo: TodoRow, data: TodoCreate) -> bool:
    return data.complete and not todo["complete"] and data.repeat is not None and data.due_date is not None


# What the next occurrence of a repeating todo copies (it gets its own due date and reminder).
_REPEATED = frozenset({"title", "description", "priority", "tags", "repeat", "due_time"})


def add_next_occurrence(
    session: Session, principal: Principal, done: TodoRow, *, now: datetime, counted: bool = False
) -> TodoRow:
    """The open todo that follows a completed repeating one: same fields, next due date by the rule."""
    due = date.fromisoformat(cast(str, done["due_date"]))
    following = repeats.next_due(due, cast(str, done["repeat"]))
    remind_at = None
    if done["remind_at"] is not None:
        shifted = shift_days(datetime.fromisoformat(done["remind_at"]), (following - due).days, principal.timezone)
        remind_at = shifted if shifted > now else None
    kept = {field: value for field, value in done.items() if field in _REPEATED}
    data = TodoCreate.model_validate({**kept, "due_date": following, "remind_at": remind_at})
    target = ListAccess(done["list_id"], done["owner_id"], "", "owner", False)
    return insert_todo(session, principal, data, target, now=now, counted=counted)


def set_complete(session: Session, *, principal: Principal, todo: TodoRow, complete: bool) -> TodoRow:
    """Mark a todo done or not done (a repeating one done adds its next occurrence)."""
    fields = {field: value for field, value in todo.items() if field in TodoCreate.model_fields}
    data = TodoCreate.model_validate({**fields, "complete": complete})
    return replace(session, principal=principal, todo=todo, data=data)


def delete_visible(session: Session, *, principal: Principal, todo_id: int) -> None:
    """Move a todo the principal may write to into its owner's trash; 403 for a viewer, else 404."""
    owner_id, list_id = principal.id, 0
    if principal.shares:
        found = session.execute(_WHERE, {"tid": todo_id}).first()
        if found is None:
            raise NotFound(TODO_NOT_FOUND)
        owner_id, list_id = found.owner_id, found.list_id
    params = {"tid": todo_id, "uid": principal.id, "trashed_at": utcnow(), **principal.guard()}
    if session.execute(_TRASH, params).rowcount == 0:  # type: ignore[attr-defined]
        ensure_valid(session, principal=principal)
        raise todo_denied(session, principal=principal, todo_id=todo_id)
    counts.add_for(session, owner_id, -1)
    users = recipients(session, list_id=list_id, owner_id=owner_id, shared=principal.shares)
    record(session, {**deleted_event(todo_id, owner_id), "users": users})
    session.commit()


def delete_any(session: Session, *, principal: Principal, todo_id: int) -> None:
    """Admin: delete any todo for good, from the trash too (the admin is re-checked, and locked in, first)."""
    lock_admins(session, principal=principal)
    found = session.execute(select(_TODO.owner_id, _TODO.list_id, _TODO.deleted_at).where(_TODO.id == todo_id)).first()
    if found is None:
        raise NotFound(TODO_NOT_FOUND)
    session.execute(delete(_TABLE).where(_TODO.id == todo_id))
    if found.deleted_at is None:  # a trashed todo was already taken off the count
        counts.add_for(session, found.owner_id, -1)
        users = recipients(session, list_id=found.list_id, owner_id=found.owner_id, shared=True)
        record(session, {**deleted_event(todo_id, found.owner_id), "users": users})
    session.commit()


_WITH_OWNER = select(*TODO_COLUMNS, _USER.username.label("owner")).join(_USERS, _USER.id == _TODO.owner_id)


def get_any(session: Session, *, todo_id: int) -> AdminTodoRow:
    """Admin: any live todo with its owner's username, or NotFound."""
    row = session.execute(_WITH_OWNER.where(LIVE, _TODO.id == todo_id)).first()
    if row is None:
        raise NotFound(TODO_NOT_FOUND)
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
