"""Tags as stored on a todo: lower-case, sorted, in one column as " a b " ("" for none).

One column keeps the list endpoint a single statement (no join, no aggregate): a todo's
tags come with its row, and "has tag x" is `tags LIKE '% x %'` on rows already narrowed to
the caller's todos.
"""

from collections import Counter
from typing import cast

from sqlalchemy import ColumnElement, String, Table, bindparam, select
from sqlalchemy.orm import Session

from backend.models import Todo
from backend.services.access import visible_todos
from backend.services.principal import Principal

_TODO = cast(Table, Todo.__table__).c


def stored(tags: list[str]) -> str:
    """The column's text for tags already canonical (lower-case, sorted, unique)."""
    return f" {' '.join(tags)} " if tags else ""


def listed(text: str) -> list[str]:
    return text.split()


def has_tag(name: str) -> ColumnElement[bool]:
    """The todo carries the tag bound as `name` (its value from `tag_pattern`)."""
    return _TODO.tags.like(bindparam(name, type_=String()), escape="\\")


def tag_pattern(tag: str) -> str:
    """`% tag %` with LIKE's wildcards escaped (`_` is one in a tag's alphabet)."""
    return "% " + tag.lower().replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + " %"


def tag_counts(session: Session, *, principal: Principal) -> list[dict[str, object]]:
    """Every tag on the todos the principal can see (not in the trash), with how many carry it."""
    texts = session.execute(
        select(_TODO.tags).where(visible_todos(shares=principal.shares), _TODO.deleted_at.is_(None), _TODO.tags != ""),
        {"uid": principal.id},
    ).scalars()
    counts = Counter(tag for text in texts for tag in listed(text))
    return [{"name": name, "count": counts[name]} for name in sorted(counts)]
