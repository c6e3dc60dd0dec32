"""What the admin page takes: its search and offsets, and the forms of its user actions.

The page itself (GET) checks its query like the API does (a bad one is a 422 page). The
forms post the same place back in hidden fields, so an action returns to it; those fields
are the page's own, so a tampered one is read as "the first page", never refused.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from backend.schemas.forms import FormModel
from backend.schemas.users import MAX_OFFSET, MAX_SEARCH, Offset, UserSearch


def _search(value: object) -> str:
    text = str(value).strip()
    return text if len(text) <= MAX_SEARCH and "\x00" not in text else ""


def _offset(value: object) -> int:
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_OFFSET else 0


class AdminPageQuery(BaseModel):
    """`GET /admin-page`: the user search, both lists' offsets, and the notice of an action."""

    q: UserSearch = None
    user_offset: Offset = 0
    todo_offset: Offset = 0
    done: str = ""  # a key of the router's NOTICES
    who: str = Field(default="", max_length=32)  # the username the notice names


class AdminPlace(FormModel):
    """Where on the admin page an action was chosen; the page comes back there after it."""

    q: Annotated[str, BeforeValidator(_search)] = ""
    user_offset: Annotated[int, BeforeValidator(_offset)] = 0
    todo_offset: Annotated[int, BeforeValidator(_offset)] = 0

    def query(self) -> dict[str, object]:
        """The admin page's query for this place (defaults left out)."""
        return {"q": self.q, "user_offset": self.user_offset or None, "todo_offset": self.todo_offset or None}


class AdminRoleForm(AdminPlace):
    """The "Make admin" / "Make plain user" buttons (and the confirmation page's form)."""

    role: Literal["user", "admin"]


class AdminActiveForm(AdminPlace):
    """The "Deactivate" / "Reactivate" buttons (and the confirmation page's form)."""

    is_active: bool
