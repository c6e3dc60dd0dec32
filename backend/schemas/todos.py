"""Request, query and response models for todos."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backend.schemas.base import CleanModel, InputModel

SortKey = Literal["created_at", "-created_at", "priority", "-priority", "due_date", "-due_date", "title"]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(description="1–200 characters after trimming", examples=["Buy milk"]),
]
Priority = Annotated[int, Field(ge=1, le=5, description="1 (low) to 5 (high)", examples=[3])]


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
    description: str = Field(default="", max_length=2000, examples=["2 litres"])
    priority: Priority = 3
    complete: bool = False
    due_date: date | None = None


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


class TodoQuery(CleanModel):
    """Filters, sort and paging for todo listings (JSON and page alike)."""

    complete: bool | None = None
    priority: Priority | None = None
    q: str | None = Field(default=None, max_length=200, description="Case-insensitive search in title and description")
    sort: SortKey = "-created_at"
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


class AdminTodoQuery(CleanModel):
    """Paging and an optional owner filter for the admin todo listing."""

    owner: str | None = Field(default=None, max_length=32, description="Only this username's todos")
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


class UserQuery(CleanModel):
    """Paging and search for the admin user listing."""

    q: str | None = Field(default=None, max_length=254, description="Case-insensitive search in username and email")
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)
