"""One row of an import: what `GET /todos/export` writes, read back as a `TodoCreate`.

A JSON row is validated as it is; a CSV row is text, so its fields are turned into the
JSON types first ("True" → true, "3" → 3, "" → null for the dates and times). The export's `id`,
`owner_id`, `position`, `created_by` and `updated_by` are left out, and a `list_id` is
checked but not used (the importer owns what it imports, under new ids, in their Inbox); `created_at`
and `updated_at` are kept when present, so a round trip reproduces the todos.
"""

import re
from collections.abc import Mapping
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from backend.schemas.todos import TodoCreate

EXPORT_ONLY = ("id", "owner_id", "position", "created_by", "updated_by")
TIMESTAMPS = ("created_at", "updated_at")
_CSV_TRUE, _CSV_FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}
_CSV_INTEGER = re.compile(r"[0-9]{1,3}")


class ImportTimes(BaseModel):
    """When the imported todo was made and last changed, if the file says (with a zone)."""

    model_config = ConfigDict(extra="ignore")

    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


def from_csv(row: dict[str, str | None]) -> dict[str, object]:
    """A CSV row's text as the JSON a `TodoCreate` takes; anything unreadable stays text."""
    values: dict[str, object] = {key: value for key, value in row.items() if key is not None}
    complete = (row.get("complete") or "").strip().lower()
    if complete in _CSV_TRUE | _CSV_FALSE:
        values["complete"] = complete in _CSV_TRUE
    priority = (row.get("priority") or "").strip()
    if _CSV_INTEGER.fullmatch(priority):
        values["priority"] = int(priority)
    elif not priority:
        values.pop("priority", None)
    list_id = (row.get("list_id") or "").strip()
    if list_id.isascii() and list_id.isdigit() and len(list_id) < 11:
        values["list_id"] = int(list_id)
    elif not list_id:
        values.pop("list_id", None)
    if isinstance(row.get("tags"), str):
        values["tags"] = str(row["tags"]).split()
    for key in ("due_date", "due_time", "remind_at", "repeat", *TIMESTAMPS):
        if not values.get(key):
            values.pop(key, None)
    return values


def split_row(values: Mapping[str, object]) -> tuple[TodoCreate, datetime | None, datetime | None]:
    """The todo and its times; pydantic's ValidationError for anything wrong."""
    fields = {key: value for key, value in values.items() if key not in EXPORT_ONLY and key not in TIMESTAMPS}
    times = ImportTimes.model_validate({key: values[key] for key in TIMESTAMPS if key in values})
    return TodoCreate.model_validate(fields), times.created_at, times.updated_at
