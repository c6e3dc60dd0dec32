"""Each user's count of live todos: a few rows per user (models/todo_count.py), summed to read.

Only an unfiltered listing reads it (its `X-Total-Count`, without counting 10,000 rows),
so the user check every request makes does not.

A write adds to one of the owner's rows, picked at random: two writes of one user then
rarely wait on the same row lock, where one counter row made each of that user's writes
wait for the one before it to commit.
"""

import random
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from backend.database.direct import row_count
from backend.models import COUNT_SLOTS, TodoCount
from backend.services.principal import Principal, still_valid

_COUNTS = cast(Table, TodoCount.__table__)
_COUNT = _COUNTS.c
_ADD = _COUNT.todo_count + bindparam("added")
# The principal's own count, and only while their session holds (the write's session check).
_ADD_OWN = (
    update(_COUNTS)
    .where(_COUNT.user_id == bindparam("actor_id"), _COUNT.slot == bindparam("count_slot"), still_valid())
    .values(todo_count=_ADD)
)
_ADD_FOR = (
    update(_COUNTS)
    .where(_COUNT.user_id == bindparam("owner"), _COUNT.slot == bindparam("count_slot"))
    .values(todo_count=_ADD)
)
# The owner's count (whoever that is), only while the actor's session holds: the UPDATE a
# one-statement create runs in its INSERT's WITH (services/todos.py), which yields no row
# once that session has ended.
ADD_CHECKED = _ADD_FOR.where(still_valid()).returning(_COUNT.user_id)


# The user `:uid`'s live todos: the sum of their rows (a column of an unfiltered page).
KEPT_TOTAL = select(func.coalesce(func.sum(_COUNT.todo_count), 0)).where(_COUNT.user_id == bindparam("uid"))


def _slot() -> int:
    return random.randrange(COUNT_SLOTS)  # noqa: S311 — spreads row locks; nothing secret


def add_own(session: Session, principal: Principal, added: int) -> bool:
    """Add to the principal's count; False (nothing changed) when their session has ended."""
    params = {**principal.guard(), "added": added, "count_slot": _slot()}
    return row_count(session, _ADD_OWN, params) > 0


def checked_params(principal: Principal, owner_id: int, added: int) -> dict[str, object]:
    """The bound parameters of `ADD_CHECKED`."""
    return {**principal.guard(), "owner": owner_id, "added": added, "count_slot": _slot()}


def add_for(session: Session, owner_id: int, added: int) -> None:
    """Add to someone's count (the owner of a shared list, or for an admin's purge)."""
    row_count(session, _ADD_FOR, {"owner": owner_id, "added": added, "count_slot": _slot()})


def start_counts(session: Session, user_id: int) -> None:
    """A new user's rows, every one at zero."""
    session.execute(
        insert(_COUNTS), [{"user_id": user_id, "slot": slot, "todo_count": 0} for slot in range(COUNT_SLOTS)]
    )
