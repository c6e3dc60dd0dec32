"""Lists and their members: create, rename, delete, share, unshare.

Who may do what is decided in services/access.py; every function here asks it first.
"""

from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.errors import Conflict, NotFound, PermissionDenied
from backend.database.outbox import record
from backend.models import Todo, User
from backend.models.base import utcnow
from backend.realtime.events import deleted_event, list_event
from backend.schemas.lists import ListCreate, MemberAdd
from backend.services import counts
from backend.services.access import LISTS, MEMBERS, OWNER_ONLY, list_access, readable_lists, recipients
from backend.services.principal import Principal, ensure_valid
from backend.services.transactions import commit_then

MAX_LISTS = 100
LAST_LIST = "This is your only list; make another before deleting it"
_LIST = LISTS.c
_MEMBER = MEMBERS.c
_TODOS = cast(Table, Todo.__table__)
_TODO = _TODOS.c
_USERS = cast(Table, User.__table__)
_USER = _USERS.c
_LIVE = _TODO.deleted_at.is_(None)


def _count(*conditions: ColumnElement[bool]) -> Any:
    return (
        select(func.count()).select_from(_TODOS).where(_TODO.list_id == _LIST.id, _LIVE, *conditions).scalar_subquery()
    )


_OWNER = _USERS.alias("owner")
_ROLE = select(_MEMBER.role).where(_MEMBER.list_id == _LIST.id, _MEMBER.user_id == bindparam("uid")).scalar_subquery()
# Every list the caller can see, with its counts, in one statement: the Inbox first, then
# their own by name, then those shared with them by name.
_LISTED = (
    select(
        _LIST.id,
        _LIST.name,
        _LIST.color,
        _LIST.is_inbox,
        _OWNER.c.username.label("owner"),
        case((_LIST.owner_id == bindparam("uid"), "owner"), else_=_ROLE).label("role"),
        _count().label("todo_count"),
        _count(_TODO.complete.is_(False)).label("open_count"),
        _LIST.created_at,
        _LIST.updated_at,
    )
    .join(_OWNER, _OWNER.c.id == _LIST.owner_id)
    .where(readable_lists())
    .order_by((_LIST.owner_id != bindparam("uid")), _LIST.is_inbox.desc(), _LIST.name_key, _LIST.id)
)


def list_rows(session: Session, *, principal: Principal, list_id: int | None = None) -> list[dict[str, Any]]:
    """The lists the principal can see (or just one of them), as ListRead shows them."""
    statement = _LISTED if list_id is None else _LISTED.where(_LIST.id == list_id)
    rows = session.execute(statement, {"uid": principal.id}).mappings().all()
    return [{**row, "is_inbox": bool(row["is_inbox"])} for row in rows]


def get_list(session: Session, *, principal: Principal, list_id: int) -> dict[str, Any]:
    rows = list_rows(session, principal=principal, list_id=list_id)
    if not rows:
        raise NotFound("List not found")
    return rows[0]


def _name_taken(name: str) -> Conflict:
    return Conflict(f"You already have a list named “{name}”")


def create_list(session: Session, *, principal: Principal, data: ListCreate) -> dict[str, Any]:
    """A new list of the principal's; names are unique among their lists, ignoring case."""
    ensure_valid(session, principal=principal)
    owned = session.execute(select(func.count()).where(_LIST.owner_id == principal.id)).scalar_one()
    if owned >= MAX_LISTS:
        raise Conflict(f"You have {MAX_LISTS} lists, the most there can be; delete one first")
    now = utcnow()
    values = {
        "owner_id": principal.id,
        "name": data.name,
        "name_key": data.name.lower(),
        "color": data.color,
        "is_inbox": False,
        "created_at": now,
        "updated_at": now,
    }
    try:
        (list_id,) = session.execute(insert(LISTS), values).inserted_primary_key  # type: ignore[attr-defined]
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _name_taken(data.name) from None
    return commit_then(session, get_list(session, principal=principal, list_id=list_id))


def update_list(session: Session, *, principal: Principal, list_id: int, data: ListCreate) -> dict[str, Any]:
    """Rename or recolour a list (its owner only)."""
    ensure_valid(session, principal=principal)  # a session that ended changes nothing
    access = list_access(session, principal=principal, list_id=list_id).require("own")
    values = {"name": data.name, "name_key": data.name.lower(), "color": data.color, "updated_at": utcnow()}
    try:
        session.execute(update(LISTS).where(_LIST.id == access.id), values)
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _name_taken(data.name) from None
    _announce_list(session, access.id, access.owner_id, "list.updated")
    return commit_then(session, get_list(session, principal=principal, list_id=list_id))


def delete_list(session: Session, *, principal: Principal, list_id: int) -> None:
    """Delete a list (its owner only; never their last). Its todos go to the trash, and
    come back into the Inbox if restored. Deleting the Inbox makes the oldest other list
    the Inbox."""
    ensure_valid(session, principal=principal)  # a session that ended changes nothing
    access = list_access(session, principal=principal, list_id=list_id).require("own")
    others = session.execute(
        select(_LIST.id).where(_LIST.owner_id == principal.id, _LIST.id != list_id).order_by(_LIST.id)
    ).scalars()
    heir = next(iter(others), None)
    if heir is None:
        raise Conflict(LAST_LIST)
    if access.is_inbox:
        session.execute(update(LISTS).where(_LIST.id == heir).values(is_inbox=True))
    inbox = heir if access.is_inbox else principal.inbox_id
    users = recipients(session, list_id=list_id, owner_id=access.owner_id, shared=True)
    live = list(session.execute(select(_TODO.id).where(_TODO.list_id == list_id, _LIVE)).scalars())
    now = utcnow()
    session.execute(update(_TODOS).where(_TODO.list_id == list_id, _LIVE).values(deleted_at=now))
    session.execute(update(_TODOS).where(_TODO.list_id == list_id).values(list_id=inbox))
    counts.add_for(session, principal.id, -len(live))
    session.execute(delete(LISTS).where(_LIST.id == list_id))
    record(session, *({**deleted_event(todo_id, access.owner_id), "users": users} for todo_id in live))
    record(session, list_event("list.deleted", list_id, users))
    session.commit()


def members(session: Session, *, principal: Principal, list_id: int) -> list[dict[str, Any]]:
    """Who the list is shared with (anyone who can see the list may ask)."""
    list_access(session, principal=principal, list_id=list_id)
    rows = session.execute(
        select(_USER.username, _MEMBER.role, _MEMBER.created_at.label("added_at"))
        .join(_USERS, _USER.id == _MEMBER.user_id)
        .where(_MEMBER.list_id == list_id)
        .order_by(_USER.username_key)
    ).mappings()
    return [dict(row) for row in rows]


def add_member(session: Session, *, principal: Principal, list_id: int, data: MemberAdd) -> tuple[dict[str, Any], bool]:
    """Share the list (its owner only) or change a member's role; True when newly shared."""
    ensure_valid(session, principal=principal)  # a session that ended changes nothing
    access = list_access(session, principal=principal, list_id=list_id).require("own")
    found_user = session.execute(select(_USER.id, _USER.username).where(_USER.username_key == data.username.lower()))
    user = found_user.first()
    if user is None:
        raise NotFound(f"There is no user named “{data.username}”")
    user_id, name = user
    if user_id == principal.id:
        raise Conflict("You own this list; share it with someone else")
    found = session.execute(
        update(MEMBERS).where(_MEMBER.list_id == list_id, _MEMBER.user_id == user_id).values(role=data.role)
    ).rowcount  # type: ignore[attr-defined]
    if not found:
        session.execute(
            insert(MEMBERS), {"list_id": list_id, "user_id": user_id, "role": data.role, "created_at": utcnow()}
        )
    _announce_list(session, list_id, access.owner_id, "list.shared")
    row = next(row for row in members(session, principal=principal, list_id=list_id) if row["username"] == name)
    return commit_then(session, row), not found


def remove_member(session: Session, *, principal: Principal, list_id: int, username: str) -> None:
    """Unshare: the owner removes anyone, a member removes themselves."""
    ensure_valid(session, principal=principal)  # a session that ended changes nothing
    access = list_access(session, principal=principal, list_id=list_id)
    user_id = session.execute(select(_USER.id).where(_USER.username_key == username.lower())).scalar()
    if access.role != "owner" and user_id != principal.id:
        raise PermissionDenied(OWNER_ONLY)
    users = recipients(session, list_id=list_id, owner_id=access.owner_id, shared=True)
    gone = session.execute(delete(MEMBERS).where(and_(_MEMBER.list_id == list_id, _MEMBER.user_id == user_id))).rowcount  # type: ignore[attr-defined]
    if not gone:
        raise NotFound(f"“{username}” is not a member of this list")
    record(session, list_event("list.unshared", list_id, users))
    session.commit()


def _announce_list(session: Session, list_id: int, owner_id: int, kind: str) -> None:
    users = recipients(session, list_id=list_id, owner_id=owner_id, shared=True)
    record(session, list_event(kind, list_id, users))
