"""The trash: `GET /todos/trash`, `POST /todos/todo/{id}/restore`, and the list page's Undo."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from backend.core.http import json_response
from backend.core.redirects import safe_next
from backend.core.urls import url_path
from backend.dependencies import CurrentUser, DbDep, TodoId, mark_page
from backend.schemas.errors import AUTH_ERRORS, UNAVAILABLE, error_responses
from backend.schemas.forms import ToggleForm
from backend.schemas.todos import TodoRead, TrashedTodoRead, TrashQuery
from backend.services import trash as trash_service

router = APIRouter(prefix="/todos", tags=["todos"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
TOTAL = {"X-Total-Count": {"description": "Todos in the trash", "schema": {"type": "integer"}}}


@router.get("/trash", response_model=list[TrashedTodoRead], responses={200: {"headers": TOTAL}, **AUTH_ERRORS})
async def list_trash(
    request: Request, query: Annotated[TrashQuery, Query()], principal: CurrentUser, db: DbDep
) -> Response:
    """The caller's deleted todos, most recently deleted first, paged like `GET /todos/`.

    They stay TRASH_DAYS (default 30), then are purged for good."""
    rows, total = await db.read(trash_service.list_trash, owner_id=principal.id, limit=query.limit, offset=query.offset)
    return json_response(request, rows, headers={"X-Total-Count": str(total)})


@router.post(
    "/todo/{todo_id}/restore",
    response_model=TodoRead,
    responses=AUTH_ERRORS | error_responses(403, 404, 429),
)
async def restore_todo(request: Request, todo_id: TodoId, principal: CurrentUser, db: DbDep) -> Response:
    """Put a deleted todo back from the trash, under the same id."""
    todo = await db.write(trash_service.restore, principal=principal, todo_id=todo_id)
    return json_response(request, todo)


@pages.post("/todo-page/{todo_id}/restore", name="restore_todo_submit")
async def restore_todo_submit(
    request: Request,
    todo_id: TodoId,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[ToggleForm, Form(default_factory=ToggleForm)],
) -> RedirectResponse:
    """The list page's Undo after a delete (without JavaScript): restore, back to the list."""
    await db.write(trash_service.restore, principal=principal, todo_id=todo_id)
    return RedirectResponse(safe_next(form.return_to, url_path(request, "todo_page")), status_code=303)
