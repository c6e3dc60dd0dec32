"""Request, query and response models for todos."""

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from backend.schemas.base import NO_NUL, InputModel
from backend.services import repeats

SortKey = Literal["position", "created_at", "-created_at", "priority", "-priority", "due_date", "-due_date", "title"]
View = Literal["today", "upcoming", "overdue"]
MAX_TAGS = 10
TAG = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL),
    Field(description="1–200 characters after trimming", examples=["Buy milk"]),
]
Priority = Annotated[int, Field(ge=1, le=5, description="1 (low) to 5 (high)", examples=[3])]
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# RFC 3339: a date, "T" (or a space), a time and an offset; no bare numbers or naive times.
RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")
# What the OpenAPI document says of each: exactly what the validators accept.
HH_MM_SCHEMA = {"type": "string", "pattern": HH_MM.pattern, "examples": ["09:30"]}
RFC_3339_SCHEMA = {"type": "string", "format": "date-time", "pattern": RFC_3339.pattern}


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


def _hh_mm_text(value: object) -> object:
    if value is None or isinstance(value, time) or (isinstance(value, str) and HH_MM.match(value)):
        return value
    raise ValueError("Use a time in the form HH:MM (24-hour)")


def _rfc_3339_text(value: object) -> object:
    if value is None or isinstance(value, datetime) or (isinstance(value, str) and RFC_3339.match(value)):
        return value
    raise ValueError("Use a date and time with its offset, such as 2026-12-24T09:00:00Z")


def _as_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _tag_list(value: object) -> object:
    if not isinstance(value, list):
        return value  # the list type refuses it in plain words
    if len(value) > MAX_TAGS:
        raise ValueError(f"A todo has at most {MAX_TAGS} tags")
    for tag in value:
        if not isinstance(tag, str) or not TAG.match(tag):
            raise ValueError("A tag is 1–30 letters, digits, '-' or '_'")
    return sorted({tag.lower() for tag in value})


def _repeat_rule(value: object) -> object:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("Repeat is a rule such as 'weekly' or 'every 2 days'")
    try:
        return repeats.normalize_repeat(value)
    except ValueError:
        raise ValueError(
            "Repeat is one of daily, weekdays, weekly, monthly, yearly or 'every N days|weeks|months'"
        ) from None


Tags = Annotated[
    list[str],
    BeforeValidator(_tag_list),
    Field(
        description="Up to 10, each 1–30 letters, digits, `-` or `_`; case-insensitive, returned lower-case and sorted",
        examples=[["home", "work"]],
    ),
]
RepeatRule = Annotated[
    str | None,
    BeforeValidator(_repeat_rule),
    Field(
        description="`daily`, `weekdays`, `weekly`, `monthly`, `yearly` or `every N days|weeks|months`",
        examples=["weekly"],
    ),
]
ListId = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1, description="A list the caller may write to")]
# JSON bodies get exactly the types the schema names: no "3" for 3, no 1 for true.
BodyPriority = Annotated[Priority, BeforeValidator(_json_integer)]
DueDate = Annotated[date | None, BeforeValidator(_iso_date_text), Field(examples=["2026-12-24"])]
DueTime = Annotated[
    time | None,
    BeforeValidator(_hh_mm_text),
    WithJsonSchema({"anyOf": [HH_MM_SCHEMA, {"type": "null"}]}),
    Field(description="`HH:MM` in the owner's time zone; only with a `due_date`", examples=["09:30"]),
]
RemindAt = Annotated[
    AwareDatetime | None,
    BeforeValidator(_rfc_3339_text),
    AfterValidator(_as_utc),
    WithJsonSchema({"anyOf": [RFC_3339_SCHEMA, {"type": "null"}]}),
    Field(
        description="RFC 3339 with an offset; stored in UTC; in the future when set", examples=["2026-12-24T08:30:00Z"]
    ),
]


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
                    "due_time": "09:30",
                    "remind_at": "2026-12-24T08:30:00Z",
                    "tags": ["shopping"],
                    "repeat": "weekly",
                }
            ]
        },
    )

    title: Title
    description: str = Field(default="", max_length=2000, pattern=NO_NUL, examples=["2 litres"])
    priority: BodyPriority = 3
    complete: Annotated[bool, Strict()] = False
    due_date: DueDate = None
    due_time: DueTime = None
    remind_at: RemindAt = None
    tags: Tags = []
    repeat: RepeatRule = None
    list_id: ListId | None = Field(default=None, description="Default: the Inbox on create; unchanged on PUT")

    @field_validator("due_time")
    @classmethod
    def _time_needs_date(cls, value: time | None, info: ValidationInfo) -> time | None:
        # due_date is declared first, so it has been read (or refused: then it is absent).
        if value is not None and info.data.get("due_date") is None:
            raise ValueError("A due time needs a due date")
        return value


class TodoUpdate(TodoCreate):
    """PUT replaces every editable field; omitted ones take their defaults."""


class TodoPatch(InputModel):
    """PATCH changes only the fields it names (null clears an optional one)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"complete": True}, {"due_date": None}]})

    title: Title | None = None
    description: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)
    priority: BodyPriority | None = None
    complete: Annotated[bool, Strict()] | None = None
    due_date: DueDate = None
    due_time: DueTime = None
    remind_at: RemindAt = None
    tags: Tags | None = None
    repeat: RepeatRule = None
    list_id: ListId | None = None
    position: Annotated[int, BeforeValidator(_json_integer)] | None = Field(
        default=None, ge=0, le=1_000_000, description="Move to this 0-based place within its list"
    )


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
    due_time: str | None = Field(description="`HH:MM` in the owner's time zone")
    remind_at: datetime | None
    created_at: datetime
    updated_at: datetime
    list_id: int
    position: int = Field(description="Sort key within the list, ascending")
    tags: list[str]
    repeat: str | None
    created_by: str | None = Field(description="Username of who created it")
    updated_by: str | None = Field(description="Username of who changed it last")


class TrashedTodoRead(TodoRead):
    """A todo in the trash, with when it was deleted."""

    deleted_at: datetime


class TrashQuery(BaseModel):
    """Paging for the trash, as for `GET /todos/`."""

    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


class AdminTodoRead(TodoRead):
    """A todo with its owner's username, for the admin listing."""

    owner: str


class TodoQuery(BaseModel):
    """Filters, sort and paging for todo listings (JSON and page alike); frozen, so one
    read of a query string can serve every request that repeats it (core/query_models.py)."""

    model_config = ConfigDict(frozen=True)

    complete: bool | None = None
    priority: Priority | None = None
    q: str | None = Field(
        default=None, max_length=200, pattern=NO_NUL, description="Case-insensitive search in title and description"
    )
    list_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Only this list's todos")
    tag: list[Annotated[str, StringConstraints(pattern=TAG.pattern)]] = Field(
        default=[], max_length=MAX_TAGS, description="Only todos with every one of these tags (repeatable)"
    )
    view: View | None = Field(
        default=None, description="`today`, `upcoming` (the next 7 days) or `overdue`, in the caller's time zone"
    )
    sort: SortKey = Field(default="-created_at", description="Default: `position` for one list, else `-created_at`")
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)

    @model_validator(mode="after")
    def _list_order(self) -> "TodoQuery":
        if self.list_id is not None and "sort" not in self.model_fields_set:
            object.__setattr__(self, "sort", "position")
        return self


class AdminTodoQuery(BaseModel):
    """Paging and an optional owner filter for the admin todo listing."""

    owner: str | None = Field(default=None, max_length=32, pattern=NO_NUL, description="Only this username's todos")
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)
