"""Export and import: all of the caller's todos as a CSV, JSON or iCalendar download, and
a CSV or JSON file of todos read back in (all of it, or nothing).

Mounted before the todos router: `/todos/export` would otherwise be taken by
`/todos/{todo_id}`. The export streams as it is read (services/export.py), so the worker's
memory stays flat however many todos there are; the import takes up to 10,000 todos or
5 MiB (services/imports.py).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, JsonValue
from sqlalchemy.orm import Session

from backend.core.errors import InvalidInput, UnsupportedMediaType
from backend.core.http import dump_json
from backend.core.templating import render
from backend.core.urls import url_path
from backend.database.session import Database
from backend.dependencies import CurrentUser, DbDep, mark_page
from backend.routers.idempotent import answer_once, answer_response
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, UNAVAILABLE, Responses, error_responses
from backend.schemas.idempotency import IN_PROGRESS, KEY_REUSED, REPLAYED, IdempotencyKeyHeader
from backend.schemas.todos import TodoCreate, TodoRead
from backend.services import imports as import_service
from backend.services import todos as todo_service
from backend.services.export import owner_todos
from backend.services.export_formats import csv_chunks, ics_chunks, json_chunks
from backend.services.idempotency import Answer, Keep
from backend.services.principal import Principal

router = APIRouter(prefix="/todos", tags=["todos"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
IMPORT_ROUTES = ("import_todos", "import_todos_submit")  # bodies up to import_service.MAX_BYTES


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
    batches = owner_todos(db, principal.id)
    chunks: Iterator[str] | Iterator[bytes]
    if format is ExportFormat.csv:
        chunks = csv_chunks(batches)
    elif format is ExportFormat.json:
        chunks = json_chunks(batches)
    else:
        chunks = ics_chunks(batches, request.url.hostname or "localhost", principal.timezone)
    filename = f"todos-{datetime.now(UTC):%Y-%m-%d}.{format.value}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": TodoCreate.model_json_schema()}},
        },
    }
}


class ImportProblem(BaseModel):
    """One problem of a refused file: the row (numbered from 1) and field, when it is one."""

    type: str | None = None
    loc: list[str | int]
    msg: str
    input: JsonValue = None
    row: int | None = None


class ImportProblems(BaseModel):
    detail: list[ImportProblem]


REFUSED: Responses = {
    422: {
        "model": ImportProblems,
        "description": f"Nothing stored: the rows that are not valid todos (50 at most), {KEY_REUSED}",
    }
}
CREATED: Responses = {
    201: {
        "description": "Every todo of the file was stored",
        "headers": REPLAYED,
        "content": {"application/json": {"schema": {"type": "object", "properties": {"created": {"type": "integer"}}}}},
    }
}


async def _store(db: Database, principal: Principal, media_type: str, body: bytes, keep: Keep | None = None) -> int:
    rows = await anyio.to_thread.run_sync(import_service.parse, media_type, body)
    if keep is None:
        return await db.write(todo_service.create_many, principal=principal, rows=rows)

    def store_answer(session: Session, created: int) -> None:
        keep(session, _imported(created))

    return await db.write(todo_service.create_many, principal=principal, rows=rows, before_commit=store_answer)


def _imported(created: int) -> Answer:
    return Answer(201, dump_json({"created": created}))


@router.post(
    "/import",
    status_code=201,
    openapi_extra=IMPORT_BODY,
    responses=CREATED | AUTH_ERRORS | BODY_ERRORS | REFUSED | IN_PROGRESS | error_responses(403, 415, 429),
)
async def import_todos(
    request: Request, principal: CurrentUser, db: DbDep, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    """Store the todos of a CSV or JSON file in the export's format (Content-Type decides): all or none.

    With an Idempotency-Key, at most once per key (the Content-Type is part of the request).
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = await request.body()
    if idempotency_key is None:
        return answer_response(_imported(await _store(db, principal, media_type, body)))

    async def store(keep: Keep) -> Answer:
        return _imported(await _store(db, principal, media_type, body, keep))

    return await answer_once(request, principal, idempotency_key, store, media_type=media_type)


@pages.post("/todo-page/import", name="import_todos_submit", response_model=None)
async def import_todos_submit(
    request: Request, principal: CurrentUser, db: DbDep, file: Annotated[UploadFile, File()]
) -> Response:
    """The list page's import form: the file's type comes from its name (.csv or .json)."""
    name = (file.filename or "").lower()
    media_type = "text/csv" if name.endswith(".csv") else "application/json" if name.endswith(".json") else ""
    try:
        created = await _store(db, principal, media_type, await file.read())
    except (InvalidInput, UnsupportedMediaType) as exc:
        problems = exc.errors if isinstance(exc, InvalidInput) else [{"msg": exc.message, "loc": []}]
        context = {"problems": problems, "filename": file.filename or ""}
        return render(request, "import_problems.html", context, status_code=exc.status_code)
    return RedirectResponse(url_path(request, "todo_page") + f"?imported={created}", status_code=303)
