"""Quick add as a service: parse one line (services/quickadd.py), find its `@list`, store it."""

from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, case, or_, select
from sqlalchemy.orm import Session

from backend.core.errors import InvalidInput
from backend.models import ROLE_EDITOR
from backend.models.base import utcnow
from backend.schemas.todos import TodoCreate
from backend.services.access import INBOX, LISTS, MEMBERS, ListAccess
from backend.services.principal import Principal
from backend.services.quickadd import QuickAdd, QuickAddError, parse_quick_add
from backend.services.todos import TodoRow, check_reminder, insert_todo, target_list

_LIST = LISTS.c
_MEMBER = MEMBERS.c
# A list the caller may add to, by name ignoring case: their own before one shared with them.
_WRITABLE_NAMED = (
    select(_LIST.id, _LIST.owner_id, _LIST.name, _LIST.is_inbox)
    .where(
        _LIST.name_key == bindparam("key"),
        or_(
            _LIST.owner_id == bindparam("uid"),
            _LIST.id.in_(
                select(_MEMBER.list_id).where(_MEMBER.user_id == bindparam("uid"), _MEMBER.role == ROLE_EDITOR)
            ),
        ),
    )
    .order_by(case((_LIST.owner_id == bindparam("uid"), 0), else_=1), _LIST.id)
    .limit(1)
)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput([{"type": "value_error", "loc": ["body", "text"], "msg": message}])


def _list_named(session: Session, principal: Principal, name: str | None) -> ListAccess:
    if name is None:
        return target_list(session, principal, None)
    row = session.execute(_WRITABLE_NAMED, {"key": name.lower(), "uid": principal.id}).first()
    if row is None:
        raise _refuse(f"There is no list named “{name}” that you can add to")
    return ListAccess(
        row.id, row.owner_id, row.name, "owner" if row.owner_id == principal.id else "editor", bool(row.is_inbox)
    )


def _parse(text: str, today: date) -> QuickAdd:
    try:
        return parse_quick_add(text, today=today)
    except QuickAddError as exc:
        raise _refuse(str(exc)) from None


def _todo_data(parsed: QuickAdd, target: ListAccess) -> TodoCreate:
    fields: dict[str, Any] = {
        "title": parsed.title,
        "tags": list(parsed.tags),
        "due_date": parsed.due_date,
        "due_time": parsed.due_time,
        "repeat": parsed.repeat,
        "list_id": target.id,
    }
    if parsed.priority is not None:
        fields["priority"] = parsed.priority
    try:
        return TodoCreate.model_validate(fields)
    except ValidationError as exc:
        raise _refuse(str(exc.errors(include_url=False)[0]["msg"])) from None


def preview(session: Session, *, principal: Principal, text: str, today: date) -> dict[str, Any]:
    """What quick add would store for `text`, without storing it."""
    parsed = _parse(text, today)
    target = _list_named(session, principal, parsed.list_name)
    data = _todo_data(parsed, target)
    return {
        **data.model_dump(mode="json", include={"title", "priority", "tags", "due_date", "due_time", "repeat"}),
        "due_time": None if data.due_time is None else data.due_time.strftime("%H:%M"),
        "list_id": target.id,
        "list_name": target.name if target.name else INBOX,
    }


def create(session: Session, *, principal: Principal, text: str, today: date) -> TodoRow:
    """Parse `text` relative to the principal's today and store the todo it describes."""
    parsed = _parse(text, today)
    target = _list_named(session, principal, parsed.list_name)
    now = utcnow()
    data = _todo_data(parsed, target)
    check_reminder(data.remind_at, now=now)
    todo = insert_todo(session, principal, data, target, now=now)
    session.commit()
    return todo
