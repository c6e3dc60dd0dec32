"""Who may do what with a list and its todos: the one place these rules live.

- The owner of a list does everything with it.
- An editor reads, creates, edits, completes and deletes its todos.
- A viewer reads them.
- Anyone else is told the list and its todos do not exist (404).

Todo reads and writes carry `todo_readable()` / `todo_writable()` in their WHERE clause (the
check and the action are one statement); list routes call `list_access()` then `require()`.
"""

from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from backend.core.errors import NotFound, PermissionDenied
from backend.models import ROLE_EDITOR, ListMember, Todo, TodoList
from backend.services.principal import Principal

INBOX = "Inbox"
LIST_NOT_FOUND = "List not found"
TODO_NOT_FOUND = "Todo not found"
VIEW_ONLY = "You can only view this list"
OWNER_ONLY = "Only the list's owner can do that"
Role = Literal["owner", "editor", "viewer"]
Need = Literal["read", "write", "own"]
LISTS = cast(Table, TodoList.__table__)
MEMBERS = cast(Table, ListMember.__table__)
_LIST = LISTS.c
_MEMBER = MEMBERS.c
_TODO = cast(Table, Todo.__table__).c
_ALLOWED: dict[Need, tuple[Role, ...]] = {
    "read": ("owner", "editor", "viewer"),
    "write": ("owner", "editor"),
    "own": ("owner",),
}


@dataclass(frozen=True, slots=True)
class ListAccess:
    """A list as one caller sees it: its row's essentials and the caller's role."""

    id: int
    owner_id: int
    name: str
    role: Role
    is_inbox: bool

    def require(self, need: Need) -> "ListAccess":
        """This, when the role allows `need`; PermissionDenied otherwise (the caller can see the list)."""
        if self.role not in _ALLOWED[need]:
            raise PermissionDenied(VIEW_ONLY if need == "write" else OWNER_ONLY)
        return self


def _member(list_id: ColumnElement[int], *, editor: bool) -> ColumnElement[bool]:
    conditions = [_MEMBER.list_id == list_id, _MEMBER.user_id == bindparam("uid")]
    if editor:
        conditions.append(_MEMBER.role == ROLE_EDITOR)
    return exists().where(*conditions)


def todo_readable() -> ColumnElement[bool]:
    """A todo the user `:uid` may read: in a list they own or are a member of."""
    return or_(_TODO.owner_id == bindparam("uid"), _member(_TODO.list_id, editor=False))


def todo_writable() -> ColumnElement[bool]:
    """A todo the user `:uid` may change: in a list they own or edit."""
    return or_(_TODO.owner_id == bindparam("uid"), _member(_TODO.list_id, editor=True))


def readable_lists() -> ColumnElement[bool]:
    """Lists the user `:uid` owns or is a member of."""
    return or_(_LIST.owner_id == bindparam("uid"), _member(_LIST.id, editor=False))


def visible_todos(*, shares: bool) -> ColumnElement[bool]:
    """`todo_readable()` for listing many todos, or only the owner test for someone no list
    is shared with or by (cheapest).

    The member test is a list of ids (`IN`), not `todo_readable`'s correlated EXISTS: an
    EXISTS per row makes a sharer's list read every live todo of every user, while with
    ids SQLite reads the owner's todos and the shared lists' todos each by its index
    (MULTI-INDEX OR). The rows are the same.
    """
    if not shares:
        return _TODO.owner_id == bindparam("uid")
    shared_lists = select(_MEMBER.list_id).where(_MEMBER.user_id == bindparam("uid"))
    return or_(_TODO.owner_id == bindparam("uid"), _TODO.list_id.in_(shared_lists))


_ACCESS = (
    select(_LIST.id, _LIST.owner_id, _LIST.name, _LIST.is_inbox, _MEMBER.role)
    .outerjoin(MEMBERS, and_(_MEMBER.list_id == _LIST.id, _MEMBER.user_id == bindparam("uid")))
    .where(_LIST.id == bindparam("lid"), or_(_LIST.owner_id == bindparam("uid"), _MEMBER.user_id.is_not(None)))
)


def list_access(session: Session, *, principal: Principal, list_id: int) -> ListAccess:
    """The list and the principal's role in it; NotFound when it is missing or not theirs to see."""
    row = session.execute(_ACCESS, {"uid": principal.id, "lid": list_id}).first()
    if row is None:
        raise NotFound(LIST_NOT_FOUND)
    role: Role = "owner" if row.owner_id == principal.id else cast(Role, row.role)
    return ListAccess(row.id, row.owner_id, row.name, role, bool(row.is_inbox))


def recipients(session: Session, *, list_id: int, owner_id: int, shared: bool) -> list[int]:
    """Who hears of a change in the list: its owner, and its members when it may be shared."""
    if not shared:
        return [owner_id]
    members = session.execute(select(_MEMBER.user_id).where(_MEMBER.list_id == list_id)).scalars()
    return [owner_id, *members]


def todo_denied(session: Session, *, principal: Principal, todo_id: int) -> Exception:
    """Why a guarded todo write matched nothing (the session held): 403 if the todo can be read, else 404."""
    readable = session.execute(
        select(_TODO.id).where(_TODO.id == todo_id, _TODO.deleted_at.is_(None), todo_readable()),
        {"uid": principal.id},
    ).first()
    return PermissionDenied(VIEW_ONLY) if readable else NotFound(TODO_NOT_FOUND)
