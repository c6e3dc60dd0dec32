"""All of one user's todos, read in batches for the export (memory stays flat however many).

Each batch is its own short read (keyset pagination on the id), so an export of 100,000
todos never holds a transaction open or more than one batch of rows in memory, and a
writer is never kept waiting by it.
"""

from collections.abc import Iterator
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.database.session import Database
from backend.models import Todo
from backend.services.todos import LIVE, TODO_COLUMNS, TodoRow, todo_row

BATCH = 1000


def _batch(session: Session, *, owner_id: int, after_id: int, limit: int) -> list[TodoRow]:
    statement = (
        select(*TODO_COLUMNS).where(Todo.owner_id == owner_id, LIVE, Todo.id > after_id).order_by(Todo.id).limit(limit)
    )
    return [todo_row(row) for row in session.execute(statement)]


def owner_todos(db: Database, owner_id: int, *, batch: int = BATCH) -> Iterator[list[TodoRow]]:
    """Every todo of `owner_id`, oldest first, in lists of up to `batch`, read as they are consumed."""
    after_id = 0
    while True:
        rows = db.call(partial(_batch, owner_id=owner_id, after_id=after_id, limit=batch), write=False)
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after_id = rows[-1]["id"]
