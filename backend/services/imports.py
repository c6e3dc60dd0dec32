"""Importing todos from a file in the export's CSV or JSON format: all of it, or nothing.

Every row is checked before anything is written; one bad row refuses the whole file with
a 422 that names the rows and their problems (the first 50). The checked rows then go in
through `todos.create_many`: one transaction, the importer's todo counter, and the same
session guard as every create.
"""

import csv
import io
from datetime import UTC

import orjson
from pydantic import ValidationError

from backend.core.errors import InvalidInput, UnsupportedMediaType
from backend.core.validation import public_errors
from backend.models.base import utcnow
from backend.schemas.imports import from_csv, split_row

MAX_TODOS = 10_000
MAX_BYTES = 5 * 1024 * 1024
MAX_PROBLEMS = 50
MEDIA_TYPES = ("application/json", "text/csv")
Values = dict[str, object]


def _refuse(message: str, loc: tuple[str | int, ...] = ("body",)) -> InvalidInput:
    return InvalidInput([{"type": "value_error", "loc": list(loc), "msg": message}])


def read_rows(media_type: str, body: bytes) -> list[Values]:
    """The file's records as JSON-typed dicts; 415 or 422 when it is not one of ours."""
    if media_type == "application/json":
        try:
            rows = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise _refuse("The file is not valid JSON.") from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise _refuse("Send a JSON list of todos, as the export writes it.")
        return rows
    if media_type == "text/csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _refuse("The CSV file must be UTF-8 text.") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if "title" not in (reader.fieldnames or []):
            raise _refuse("The CSV file needs a header row with at least a title column.")
        try:
            return [from_csv(row) for row in reader]
        except csv.Error as exc:
            raise _refuse(f"The CSV file cannot be read: {exc}.") from None
    raise UnsupportedMediaType("Send the todos as text/csv or application/json.")


def check_rows(rows: list[Values]) -> list[Values]:
    """Every row validated; InvalidInput naming each bad row (numbered from 1) otherwise."""
    if len(rows) > MAX_TODOS:
        raise _refuse(f"At most {MAX_TODOS:,} todos per import; this file has {len(rows):,}.")
    checked: list[Values] = []
    problems: list[dict[str, object]] = []
    now = utcnow()  # one time for the whole file: rows without times were made together
    for number, row in enumerate(rows, start=1):
        try:
            todo, created_at, updated_at = split_row(row)
        except ValidationError as exc:
            for error in public_errors(exc.errors()):
                problems.append({**error, "loc": ["body", number, *error["loc"]], "row": number})
            continue
        created = (created_at or now).astimezone(UTC)
        # A reminder time already past is kept as it was, but marked sent: it is not sent now.
        past = todo.remind_at is not None and todo.remind_at <= now
        updated = (updated_at or created).astimezone(UTC)
        checked.append(
            {
                **todo.model_dump(),
                "created_at": created,
                "updated_at": updated,
                "reminder_sent_at": now if past else None,
            }
        )
    if problems:
        raise InvalidInput(problems[:MAX_PROBLEMS])
    return checked


def parse(media_type: str, body: bytes) -> list[Values]:
    """`read_rows`, then `check_rows`: the rows to store, or the reason for refusing them."""
    return check_rows(read_rows(media_type, body))
