"""Quick add: one line of text in, a todo (or its preview) out."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backend.schemas.base import NO_NUL, InputModel


class QuickAddText(InputModel):
    """`#tag`, `!1`–`!5`, `@list`, a date and time in English and a repeat, around a title."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "Call mom tomorrow 9am #family !4 @Home every week"}]}
    )

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=NO_NUL)]


class QuickAddPreview(BaseModel):
    """What `POST /todos/quick` would store (with `?preview=true`: nothing is stored)."""

    title: str
    priority: int
    tags: list[str]
    due_date: date | None
    due_time: str | None = Field(description="`HH:MM`")
    repeat: str | None
    list_id: int
    list_name: str
