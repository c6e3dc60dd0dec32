"""Ending a write unit's transaction."""

from typing import TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


def commit_then(session: Session, answer: T) -> T:
    """Commit, then answer what was read inside the transaction.

    Reading after the commit would begin a second transaction: another round trip on a
    server, and on SQLite another BEGIN IMMEDIATE, which must wait for the write lock
    again whenever another process took it in between.
    """
    session.commit()
    return answer
