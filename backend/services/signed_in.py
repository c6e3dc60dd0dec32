"""The user check and the request's own read in a single statement.

Every authenticated request checks its user (services/principal.py), then runs its own
query: two statements and two round trips on PostgreSQL and MariaDB. For the busiest
reads with a query this simple, the read is joined to the user's row instead:

- one todo (`GET`, `PUT`, `PATCH /todos/…/{id}`): the same checks, the same visibility as
  `todos.get_visible`;
- an unfiltered page of someone's own todos (`GET /todos/`, on PostgreSQL only:
  `Database.page_with_check` says why): `todos.list_visible`'s page for someone who
  shares nothing, as a derived table (not correlated, so no LATERAL), with the kept
  total. The caller decides, from the principal's row, whether that page is their answer
  (it is not for someone who shares a list).
"""

from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from backend.core.tokens import TokenClaims
from backend.database.direct import all_rows, first_row
from backend.models import Todo, User
from backend.schemas.todos import SortKey
from backend.services.access import todo_readable, visible_todos
from backend.services.counts import KEPT_TOTAL
from backend.services.principal import PRINCIPAL_COLUMNS, PrincipalRow, principal_row, token_params, valid_conditions
from backend.services.todos import LIVE, TODO_COLUMNS, TodoRow, page_statement, sort_order, todo_row

_USERS = cast(Table, User.__table__)
_TODOS = cast(Table, Todo.__table__)
_WIDTH = len(PRINCIPAL_COLUMNS)
_TODO_WIDTH = len(TODO_COLUMNS)

# The user's row while the session holds; the todo's columns NULL when it is missing, in
# the trash or not the user's to read (outer join), as `todos._ONE_VISIBLE` decides.
_PRINCIPAL_AND_TODO = (
    select(*PRINCIPAL_COLUMNS, *TODO_COLUMNS)
    .select_from(_USERS.outerjoin(_TODOS, and_(_TODOS.c.id == bindparam("tid"), todo_readable(), LIVE)))
    .where(*valid_conditions())
)


def principal_and_todo(
    session: Session, *, token: TokenClaims, todo_id: int
) -> tuple[PrincipalRow, TodoRow | None] | None:
    """The principal's row and the todo they asked for (None: not theirs to read); None
    altogether when the token no longer holds."""
    params = {**token_params(token), "tid": todo_id, "uid": token.user_id}
    row = first_row(session, _PRINCIPAL_AND_TODO, params)
    if row is None:
        return None
    values = list(row)
    return principal_row(values), None if values[_WIDTH] is None else todo_row(values[_WIDTH:])


@cache
def _principal_and_page(sort: SortKey) -> Select[Any]:
    """The user's row (no row: the token no longer holds), and on it, outer-joined, each
    todo of `list_visible`'s unfiltered page for someone who shares nothing; NULLs when
    they have none. The page's sort keys are extra columns, so the rows can be put in
    that order again outside the derived table, and the kept total is the last column."""
    keys, descending = [], []
    for n, key in enumerate(sort_order(sort)):
        plain = isinstance(key, UnaryExpression) and key.modifier in (operators.asc_op, operators.desc_op)
        keys.append((key.element if plain else key).label(f"sort{n}"))
        descending.append(plain and key.modifier is operators.desc_op)
    page = page_statement((visible_todos(shares=False), LIVE), sort, *keys).subquery("page")
    # The user's row as a derived table too, with a LIMIT: no database merges such a table
    # into the join, so its subqueries (the inbox, the sharing test) run once, not per todo.
    who = select(*PRINCIPAL_COLUMNS).where(*valid_conditions()).limit(1).subquery("who")
    todo_columns = list(page.c)[:_TODO_WIDTH]
    order = [page.c[f"sort{n}"].desc() if desc else page.c[f"sort{n}"].asc() for n, desc in enumerate(descending)]
    return (
        select(*who.c, *todo_columns, KEPT_TOTAL.scalar_subquery().label("total"))
        .select_from(who.outerjoin(page, true()))
        .order_by(*order)
    )


def principal_and_page(
    session: Session, *, token: TokenClaims, sort: SortKey, limit: int, offset: int
) -> tuple[PrincipalRow, list[TodoRow], int] | None:
    """The principal's row, then the unfiltered page of their own todos and their kept
    total; None when the token no longer holds."""
    params = {**token_params(token), "uid": token.user_id, "limit": limit, "offset": offset}
    found = all_rows(session, _principal_and_page(sort), params)
    if not found:
        return None
    first = list(found[0])
    todos = [todo_row(row[_WIDTH:]) for row in found if row[_WIDTH] is not None]
    return principal_row(first), todos, int(first[-1])
