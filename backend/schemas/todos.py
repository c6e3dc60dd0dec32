"""Request, query and response models for todos."""

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from backend.schemas.base import NO_NUL, InputModel

SortKey = Literal["created_at", "-created_at", "priority", "-priority", "due_date", "-due_date", "title"]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL),
    Field(description="1–200 characters after trimming", examples=["Buy milk"]),
]
Priority = Annotated[int, Field(ge=1, le=5, description="1 (low) to 5 (high)", examples=[3])]
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_text(value: object) -> object:
    # Pydantic's lax mode would turn 0 or "1700000000" into a date; the schema says
    # "YYYY-MM-DD", so only that (or null) is accepted.
    if value is None or isinstance(value, date) or (isinstance(value, str) and ISO_DATE.match(value)):
        return value
    raise ValueError("Use a date in the form YYYY-MM-DD")


def _json_integer(value: object) -> object:
    # JSON Schema's "integer": 3 and 3.0, but not "3" or true (which lax mode would take).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("Input should be an integer")


# JSON bodies get exactly the types the schema names: no "3" for 3, no 1 for true.
BodyPriority = Annotated[Priority, BeforeValidator(_json_integer)]
DueDate = Annotated[date | None, BeforeValidator(_iso_date_text), Field(examples=["2026-12-24"])]


class TodoCreate(InputModel):
    """A new todo; only `title` is required."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Buy milk",
                    "description": "2 litres",
                    "priority": 3,
                    "complete": False,
                    "due_date": "2026-12-24",
                }
            ]
        },
    )

    title: Title
    description: str = Field(default="", max_length=2000, pattern=NO_NUL, examples=["2 litres"])
    priority: BodyPriority = 3
    complete: Annotated[bool, Strict()] = False
    due_date: DueDate = None


class TodoUpdate(TodoCreate):
    """PUT replaces every editable field; omitted ones take their defaults."""


class TodoRead(BaseModel):
    """A todo as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    title: str
    description: str
    priority: int
    complete: bool
    due_date: date | None
    created_at: datetime
    updated_at: datetime


class AdminTodoRead(TodoRead):
    """A todo with its owner's username, for the admin listing."""

    owner: str


class TodoQuery(BaseModel):
    """Filters, sort and paging for todo listings (JSON and page alike)."""

    complete: bool | None = None
    priority: Priority | None = None
    q: str | None = Field(
        default=None, max_length=200, pattern=NO_NUL, description="Case-insensitive search in title and description"
    )
    sort: SortKey = "-created_at"
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


class AdminTodoQuery(BaseModel):
    """Paging and an optional owner filter for the admin todo listing."""

    owner: str | None = Field(default=None, max_length=32, pattern=NO_NUL, description="Only this username's todos")
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)
