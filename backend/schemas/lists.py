"""Request and response models for lists and their members."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backend.schemas.base import NO_NUL, InputModel

ListName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_NUL),
    Field(description="1–50 characters; unique among your lists, ignoring case", examples=["Work"]),
]
Color = Annotated[
    str,
    StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$"),
    Field(description="`#rrggbb`", examples=["#2563eb"]),
]
MemberRole = Literal["viewer", "editor"]


class ListCreate(InputModel):
    """A new list (PUT takes the same: both fields replaced)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Work", "color": "#2563eb"}]})

    name: ListName
    color: Color | None = None


class ListRead(BaseModel):
    """A list as its owner or a member sees it."""

    id: int
    name: str
    color: str | None
    is_inbox: bool = Field(description="Where todos go when no list is named (the owner's)")
    owner: str = Field(description="The owner's username")
    role: Literal["owner", "editor", "viewer"] = Field(description="What the caller may do with it")
    todo_count: int = Field(description="Todos in it (not in the trash)")
    open_count: int = Field(description="Of those, not completed")
    created_at: datetime
    updated_at: datetime


class MemberAdd(InputModel):
    """Share a list with someone, or change what they may do."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "bob", "role": "editor"}]})

    username: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=NO_NUL)]
    role: MemberRole


class MemberRead(BaseModel):
    """Someone a list is shared with."""

    username: str
    role: MemberRole
    added_at: datetime


class TagRead(BaseModel):
    """A tag and how many of the caller's todos carry it."""

    name: str
    count: int
