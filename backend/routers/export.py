"""`GET /todos/export`: all of the caller's todos as a CSV, JSON or iCalendar download.

Mounted before the todos router: its path would otherwise be taken by `/todos/{todo_id}`.
The body streams as it is read (services/export.py), so the worker's memory stays flat
however many todos there are.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from backend.dependencies import CurrentUser, DbDep
from backend.schemas.errors import AUTH_ERRORS, Responses
from backend.schemas.todos import TodoRead
from backend.services.export import owner_todos
from backend.services.export_formats import csv_chunks, ics_chunks, json_chunks

router = APIRouter(prefix="/todos", tags=["todos"])


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    ics = "ics"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.json: "application/json",
    ExportFormat.ics: "text/calendar; charset=utf-8",
}
DOWNLOAD: Responses = {
    200: {
        "description": "Every todo of the caller, as an attachment",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": TodoRead.model_json_schema()}},
            "text/calendar": {"schema": {"type": "string"}},
        },
    }
}


@router.get("/export", response_class=StreamingResponse, responses=DOWNLOAD | AUTH_ERRORS)
async def export_todos(
    request: Request,
    principal: CurrentUser,
    db: DbDep,
    format: Annotated[ExportFormat, Query(description="csv, json or ics (iCalendar VTODOs)")] = ExportFormat.json,  # noqa: A002 (the query's name)
) -> StreamingResponse:
    """Download every todo: CSV with a header row, JSON as a list of TodoRead, or iCalendar."""
    rows = owner_todos(db, principal.id)
    chunks: Iterator[str] | Iterator[bytes]
    if format is ExportFormat.csv:
        chunks = csv_chunks(rows)
    elif format is ExportFormat.json:
        chunks = json_chunks(rows)
    else:
        chunks = ics_chunks(rows, request.url.hostname or "localhost")
    filename = f"todos-{datetime.now(UTC):%Y-%m-%d}.{format.value}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)
