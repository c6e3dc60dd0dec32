"""All tables, so `Base.metadata` is complete once this package is imported."""

from backend.models.base import Base
from backend.models.form_draft import FormDraft
from backend.models.idempotency_key import IdempotencyKey
from backend.models.revoked_token import RevokedToken
from backend.models.schedule import Schedule
from backend.models.todo import Todo
from backend.models.todo_count import COUNT_SLOTS, TodoCount
from backend.models.todo_list import ROLE_EDITOR, ROLE_VIEWER, ListMember, TodoList
from backend.models.user import ROLE_ADMIN, ROLE_USER, User

__all__ = [
    "ROLE_ADMIN",
    "ROLE_EDITOR",
    "ROLE_USER",
    "ROLE_VIEWER",
    "COUNT_SLOTS",
    "Base",
    "FormDraft",
    "IdempotencyKey",
    "ListMember",
    "RevokedToken",
    "Schedule",
    "Todo",
    "TodoCount",
    "TodoList",
    "User",
]
