"""What the todo list page shows besides the todos: the sidebar (lists with open counts,
tags), the list being viewed, and per todo its list's name, whether the viewer may change
it and whether it sits in a shared list (then who added and changed it is shown)."""

from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.errors import NotFound
from backend.schemas.todos import TodoQuery
from backend.services import lists as list_service
from backend.services import tags as tag_service
from backend.services import todos as todo_service
from backend.services.access import INBOX, LIST_NOT_FOUND, MEMBERS
from backend.services.principal import Principal
from backend.services.todos import DisplayTodoRow

_MEMBER = MEMBERS.c
WRITERS = ("owner", "editor")


class PageTodoRow(DisplayTodoRow):
    """A todo as the list page shows it."""

    list_name: str
    can_edit: bool
    shared: bool


@dataclass(frozen=True, slots=True)
class ListPage:
    """One read of everything the list page shows."""

    todos: list[PageTodoRow]
    total: int
    lists: list[dict[str, Any]]
    tags: list[dict[str, object]]
    current_list: dict[str, Any] | None


def _shared_ids(session: Session, list_ids: list[int]) -> set[int]:
    """Of these lists, those shared with anyone."""
    if not list_ids:
        return set()
    found = session.execute(select(_MEMBER.list_id).where(_MEMBER.list_id.in_(list_ids)).distinct()).scalars()
    return set(found)


def read_page(session: Session, *, principal: Principal, query: TodoQuery, today: date) -> ListPage:
    """The page of todos for `query` with the sidebar; a list the principal cannot see is NotFound."""
    rows, total = todo_service.list_visible(session, principal=principal, query=query, today=today)
    lists = list_service.list_rows(session, principal=principal)
    by_id = {row["id"]: row for row in lists}
    if query.list_id is not None and query.list_id not in by_id:
        raise NotFound(LIST_NOT_FOUND)
    shared = _shared_ids(session, list(by_id)) if principal.shares else set()
    todos: list[PageTodoRow] = []
    for row in todo_service.for_display(rows, today):
        listed = by_id.get(row["list_id"], {})
        todos.append(
            {
                **row,
                "list_name": listed.get("name") or INBOX,
                "can_edit": listed.get("role") in WRITERS,
                "shared": row["list_id"] in shared,
            }
        )
    current = by_id.get(query.list_id) if query.list_id is not None else None
    if current is not None:
        current = {**current, "shared": current["id"] in shared, "can_edit": current["role"] in WRITERS}
    tags = tag_service.tag_counts(session, principal=principal)
    return ListPage(todos, total, lists, tags, current)


class ListSettings(TypedDict):
    """The list settings page: the list as the principal sees it and who it is shared with."""

    list: dict[str, Any]
    members: list[dict[str, Any]]


def read_settings(session: Session, *, principal: Principal, list_id: int) -> ListSettings:
    """One list and its members (anyone who can see the list; only its owner changes them)."""
    found = list_service.get_list(session, principal=principal, list_id=list_id)
    return {"list": found, "members": list_service.members(session, principal=principal, list_id=list_id)}
