"""Quick add: `POST /todos/quick` turns one line of text into a todo (services/quick_todos.py)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from backend.core.http import json_response
from backend.core.zones import today_in
from backend.dependencies import CurrentUser, DbDep
from backend.routers.idempotent import answer_response
from backend.routers.todos import CREATED, WRITE_ERRORS, created_answer
from backend.schemas.errors import error_responses
from backend.schemas.quickadd import QuickAddPreview, QuickAddText
from backend.schemas.todos import TodoRead
from backend.services import quick_todos as quick_service

router = APIRouter(prefix="/todos", tags=["todos"])


@router.post(
    "/quick",
    status_code=201,
    response_model=TodoRead,
    responses=CREATED
    | WRITE_ERRORS
    | error_responses(404)
    | {200: {"model": QuickAddPreview, "description": "With `?preview=true`: the parse, nothing stored"}},
)
async def quick_add(
    request: Request,
    data: QuickAddText,
    principal: CurrentUser,
    db: DbDep,
    preview: Annotated[bool, Query(description="Only show what would be stored")] = False,
) -> Response:
    """Create a todo from one line: `Call mom tomorrow 9am #family !4 @Home every week`.

    Dates and times are read in the caller's time zone; what is recognised leaves the title."""
    today = today_in(principal.timezone)
    if preview:
        parsed = await db.read(quick_service.preview, principal=principal, text=data.text, today=today)
        return json_response(request, parsed)
    return answer_response(
        created_answer(await db.write(quick_service.create, principal=principal, text=data.text, today=today))
    )


@router.api_route("/quick", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def quick_add_other_methods() -> Response:
    """405, not `GET /todos/{todo_id}`'s 422 for the id "quick"."""
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": "POST"})
