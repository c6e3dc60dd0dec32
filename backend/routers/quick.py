"""Quick add: `POST /todos/quick` turns one line of text into a todo (services/quick_todos.py);
the list page's quick-add box posts to `quick_add_submit` when there is no JavaScript."""

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from backend.core.errors import InvalidInput
from backend.core.http import json_response
from backend.core.zones import today_in
from backend.dependencies import CurrentUser, DbDep, mark_page
from backend.routers.idempotent import answer_response
from backend.routers.todo_pages import back_to, list_page, query_in, return_target
from backend.routers.todos import CREATED, WRITE_ERRORS, created_answer
from backend.schemas.errors import UNAVAILABLE, error_responses
from backend.schemas.forms import QuickAddForm
from backend.schemas.quickadd import QuickAddPreview, QuickAddText
from backend.schemas.todos import TodoRead
from backend.services import quick_todos as quick_service

router = APIRouter(prefix="/todos", tags=["todos"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
EMPTY = "Type what you want to add, such as: Call mom tomorrow 9am"


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
    list_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**31 - 1,
            description="The list it goes to when the text names no `@list`",
        ),
    ] = None,
) -> Response:
    """Create a todo from one line: `Call mom tomorrow 9am #family !4 @Home every week`.

    Dates and times are read in the caller's time zone; what is recognised leaves the title."""
    today = today_in(principal.timezone)
    if preview:
        parsed = await db.read(quick_service.preview, principal=principal, text=data.text, today=today, list_id=list_id)
        return json_response(request, parsed)
    return answer_response(
        created_answer(
            await db.write(quick_service.create, principal=principal, text=data.text, today=today, list_id=list_id)
        )
    )


@router.api_route("/quick", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def quick_add_other_methods() -> Response:
    """405, not `GET /todos/{todo_id}`'s 422 for the id "quick"."""
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": "POST"})


@pages.post("/todo-page/quick", name="quick_add_submit", response_model=None)
async def quick_add_submit(
    request: Request,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[QuickAddForm, Form(default_factory=QuickAddForm)],
) -> Response:
    """The list page's quick-add box without JavaScript: add, then back to the same page
    saying where it went; a line that cannot be added shows the page again with why."""
    target = return_target(request, form.return_to)
    try:
        text = QuickAddText.model_validate({"text": form.text}).text
        today = today_in(principal.timezone)
        query = query_in(target)
        todo = await db.write(quick_service.create, principal=principal, text=text, today=today, list_id=query.list_id)
    except ValidationError as exc:
        error = EMPTY if not form.text.strip() else plain_message(exc.errors(include_url=False))
    except InvalidInput as exc:
        error = plain_message(exc.errors)
    else:
        return back_to(request, target, added=todo["id"])
    quick = {"text": form.text, "error": error}
    return await list_page(request, query_in(target), principal, db, quick=quick, status_code=422)


def plain_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """The first reason, as a sentence."""
    message = str(errors[0]["msg"]) if errors else EMPTY
    message = message.removeprefix("Value error, ")
    return message if message.endswith(".") else f"{message}."
