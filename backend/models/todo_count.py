"""How many live todos each user owns, kept in a few rows per user.

A user's count is the sum of their rows. Every create, trash, restore or purge adds to
one row picked at random, so concurrent writes by one user seldom wait for each other:
with the count on the user's own row, each write held that row locked until it
committed, and a user's creates ran one at a time on PostgreSQL and MariaDB, however
many workers served them (docs/performance.md, "Where the time went").
"""

from sqlalchemy import ForeignKey, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import MYSQL_TABLE_ARGS, Base

# Rows per user: enough that a pool's worth of one user's writes rarely picks the same one.
COUNT_SLOTS = 8


class TodoCount(Base):
    __tablename__ = "todo_counts"
    # SQLite: the rows live in the primary key's own b-tree (one page per write, not two).
    __table_args__ = ({**MYSQL_TABLE_ARGS, "sqlite_with_rowid": False},)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    # May go below zero in one slot (a todo counted in one slot is taken off in another).
    todo_count: Mapped[int] = mapped_column(Integer, default=0)
