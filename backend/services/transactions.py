"""Ending a write unit's transaction."""

from typing import TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


def commit_then(session: Session, answer: T) -> T:
    """Commit, then answer what was read inside the transaction.

    Reading after the commit would begin another transaction: on SQLite a second
    BEGIN IMMEDIATE, which fails at once ("database is locked", a 500) while another
    process holds the write lock; the busy retry covers only a unit's first BEGIN.
    """
    session.commit()
    return answer
