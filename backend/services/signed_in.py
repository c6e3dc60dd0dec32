"""The user check and one todo in a single statement, for `GET /todos/{id}`.

Every authenticated request checks its user (services/principal.py), then runs its own
query: two statements and two round trips on PostgreSQL and MariaDB. Reading one todo is
the busiest request with a query this simple, so here the todo is joined to the user's
row: the same checks, the same visibility as `todos.get_visible`, one statement.
"""

from typing import cast

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.orm import Session

from backend.core.tokens import TokenClaims
from backend.database.direct import first_row
from backend.models import Todo, User
from backend.services.access import todo_readable
from backend.services.principal import PRINCIPAL_COLUMNS, PrincipalRow, principal_row, token_params, valid_conditions
from backend.services.todos import LIVE, TODO_COLUMNS, TodoRow, todo_row

_USERS = cast(Table, User.__table__)
_TODOS = cast(Table, Todo.__table__)
_WIDTH = len(PRINCIPAL_COLUMNS)

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
