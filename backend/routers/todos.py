"""Todos: the JSON API and the todo pages, both on `services.todos`."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from backend.core.http import dump_json, json_response
from backend.core.redirects import safe_next, with_query
from backend.core.routing import register_todo_id
from backend.core.templating import render
from backend.core.urls import redirect_to, url_path
from backend.core.validation import field_errors
from backend.database.session import Database
from backend.dependencies import CurrentUser, DbDep, OwnedTodo, TodoId, mark_page
from backend.routers.drafts import forget_draft, restore_draft
from backend.routers.idempotent import answer_once, answer_response
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, Problems, Responses, error_responses
from backend.schemas.forms import TodoForm, ToggleForm
from backend.schemas.idempotency import IN_PROGRESS, KEY_REUSED, REPLAYED, IdempotencyKeyHeader
from backend.schemas.paging import pagination
from backend.schemas.todos import TodoCreate, TodoQuery, TodoRead, TodoUpdate
from backend.services import todos as todo_service
from backend.services.idempotency import Answer, Keep
from backend.services.principal import Principal
from backend.services.todos import TodoRow

register_todo_id()  # before any route uses {todo_id:todo_id}
router = APIRouter(prefix="/todos", tags=["todos"])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
READ_ERRORS = AUTH_ERRORS | error_responses(404)
WRITE_ERRORS = AUTH_ERRORS | BODY_ERRORS | error_responses(403)
LIST_HEADERS: dict[str, Any] = {
    "X-Total-Count": {"description": "Matches before paging", "schema": {"type": "integer"}},
    "ETag": {"description": "Validator for If-None-Match", "schema": {"type": "string"}},
}
CREATED: Responses = {
    201: {"headers": {"Location": {"description": "URL of the new todo", "schema": {"type": "string"}}, **REPLAYED}}
}
INVALID_TODO = f"Not a valid todo (every problem listed), {KEY_REUSED}"
TodoFormData = Annotated[TodoForm, Form(default_factory=TodoForm)]
NOT_MODIFIED: Responses = {304: {"description": "Unchanged since the ETag given in If-None-Match"}}


@router.get(
    "/",
    response_model=list[TodoRead],
    responses={200: {"headers": LIST_HEADERS}, **NOT_MODIFIED, **AUTH_ERRORS},
)
async def list_todos(
    request: Request, query: Annotated[TodoQuery, Query()], principal: CurrentUser, db: DbDep
) -> Response:
    """The caller's todos, filtered, sorted and paged; total in `X-Total-Count`."""
    rows, total = await db.read(
        todo_service.list_for_owner, owner_id=principal.id, todo_count=principal.todo_count, query=query
    )
    return json_response(request, rows, headers={"X-Total-Count": str(total)}, etag=True)


@router.get(
    "/{todo_id:todo_id}",
    response_model=TodoRead,
    responses={200: {"headers": {"ETag": LIST_HEADERS["ETag"]}}, **NOT_MODIFIED, **READ_ERRORS},
)
async def read_todo(request: Request, todo: OwnedTodo) -> Response:
    """One of the caller's todos."""
    return json_response(request, todo, etag=True)


def _created(todo: TodoRow) -> Answer:
    return Answer(201, dump_json(todo), f"/todos/{todo['id']}")


@router.post(
    "/todos",
    status_code=201,
    response_model=TodoRead,
    responses=CREATED | WRITE_ERRORS | IN_PROGRESS | {422: {"model": Problems, "description": INVALID_TODO}},
)
async def create_todo(
    request: Request,
    data: TodoCreate,
    principal: CurrentUser,
    db: DbDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Create a todo for the caller; with an Idempotency-Key, at most once per key."""
    if idempotency_key is None:
        return answer_response(_created(await db.write(todo_service.create, principal=principal, data=data)))

    async def create(keep: Keep) -> Answer:
        def store_answer(session: Session, todo: TodoRow) -> None:
            keep(session, _created(todo))

        todo = await db.write(todo_service.create, principal=principal, data=data, before_commit=store_answer)
        return _created(todo)

    return await answer_once(request, principal, idempotency_key, create)


@router.put("/todo/{todo_id}", response_model=TodoRead, responses=WRITE_ERRORS | error_responses(404))
async def update_todo(
    request: Request, data: TodoUpdate, todo: OwnedTodo, principal: CurrentUser, db: DbDep
) -> Response:
    """Replace every editable field of one of the caller's todos."""
    updated = await db.write(todo_service.replace, principal=principal, todo=todo, data=data)
    return json_response(request, updated)


@router.delete("/todo/{todo_id}", status_code=204, responses=AUTH_ERRORS | error_responses(403, 404))
async def delete_todo(todo_id: TodoId, principal: CurrentUser, db: DbDep) -> Response:
    """Delete one of the caller's todos."""
    await db.write(todo_service.delete_for_owner, principal=principal, todo_id=todo_id)
    return Response(status_code=204)


# --- pages ------------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(UTC).date()


async def _list_query(request: Request) -> TodoQuery:
    """The list's filter form sends empty fields for "All" / "Any": they mean "not set"."""
    params = {key: value for key, value in request.query_params.items() if value != ""}
    try:
        return TodoQuery.model_validate(params)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


@pages.get("/todo-page", response_class=HTMLResponse, name="todo_page")
async def todo_page(
    request: Request, query: Annotated[TodoQuery, Depends(_list_query)], principal: CurrentUser, db: DbDep
) -> HTMLResponse:
    """The todo list with filters, sort, paging, toggle and delete."""
    rows, total = await db.read(
        todo_service.list_for_owner, owner_id=principal.id, todo_count=principal.todo_count, query=query
    )
    filters = query.model_dump(exclude={"offset"}, exclude_defaults=True)
    paging = pagination(total, query.limit, query.offset)
    here = url_path(request, "todo_page")
    links = {
        key: with_query(here, {**filters, "offset": paging[key]})
        for key in ("prev_offset", "next_offset")
        if paging[key] is not None
    }
    context = {
        "todos": todo_service.for_display(rows, _today()),
        "query": query,
        "paging": paging,
        "links": links,
        "return_to": with_query(here, {**filters, "offset": query.offset or None}),
        "has_todos": principal.todo_count > 0,
    }
    return render(request, "todos.html", context)


def _render_form(
    request: Request, todo: TodoRow | None, values: Mapping[str, object], errors: dict[str, list[str]]
) -> HTMLResponse:
    status = 422 if errors else 200
    return render(request, "todo_form.html", {"todo": todo, "values": values, "errors": errors}, status_code=status)


async def _form_page(request: Request, todo: TodoRow | None, values: Mapping[str, object]) -> HTMLResponse:
    """The add or edit form, showing what was typed before a session ended, if anything."""
    draft = await restore_draft(request)
    response = _render_form(request, todo, TodoForm.model_validate(draft).model_dump() if draft else values, {})
    if draft is not None:
        forget_draft(response)
    return response


async def _save_form(
    request: Request, form: TodoForm, todo: TodoRow | None, principal: Principal, db: Database
) -> Response:
    """Add (`todo` None) or replace a todo from the form; errors are shown on the form."""
    values = form.model_dump()
    try:
        data = TodoCreate.model_validate(values) if todo is None else TodoUpdate.model_validate(values)
    except ValidationError as exc:
        return _render_form(request, todo, values, field_errors(exc.errors()))
    if todo is None:
        await db.write(todo_service.create, principal=principal, data=data)
    else:
        await db.write(todo_service.replace, principal=principal, todo=todo, data=data)
    return redirect_to(request, "todo_page")


@pages.get("/add-todo-page", response_class=HTMLResponse, name="add_todo_page")
async def add_todo_page(request: Request, _user: CurrentUser) -> HTMLResponse:
    """The new-todo form."""
    return await _form_page(request, None, {"priority": 3})


@pages.post("/add-todo-page", name="add_todo_submit", response_model=None)
async def add_todo_submit(request: Request, principal: CurrentUser, db: DbDep, form: TodoFormData) -> Response:
    """Create a todo from the form."""
    return await _save_form(request, form, None, principal, db)


@pages.get("/edit-todo-page/{todo_id}", response_class=HTMLResponse, name="edit_todo_page")
async def edit_todo_page(request: Request, todo: OwnedTodo) -> HTMLResponse:
    """The edit form for one of the caller's todos."""
    return await _form_page(request, todo, todo)


@pages.post("/edit-todo-page/{todo_id}", name="edit_todo_submit", response_model=None)
async def edit_todo_submit(
    request: Request, todo: OwnedTodo, principal: CurrentUser, db: DbDep, form: TodoFormData
) -> Response:
    """Save the edit form."""
    return await _save_form(request, form, todo, principal, db)


@pages.post("/todo-page/{todo_id}/toggle", name="toggle_todo_submit")
async def toggle_todo_submit(
    request: Request,
    todo: OwnedTodo,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[ToggleForm, Form(default_factory=ToggleForm)],
) -> RedirectResponse:
    """Flip done / not done (the no-JavaScript path of the list's checkbox)."""
    await db.write(todo_service.set_complete, principal=principal, todo=todo, complete=not todo["complete"])
    return RedirectResponse(safe_next(form.return_to, url_path(request, "todo_page")), status_code=303)


@pages.get("/delete-todo-page/{todo_id}", response_class=HTMLResponse, name="delete_todo_page")
async def delete_todo_page(request: Request, todo: OwnedTodo) -> HTMLResponse:
    """Ask before deleting (the no-JavaScript path; scripts use a dialog)."""
    return render(request, "confirm_delete.html", {"todo": todo})


@pages.post("/delete-todo-page/{todo_id}", name="delete_todo_submit")
async def delete_todo_submit(request: Request, todo: OwnedTodo, principal: CurrentUser, db: DbDep) -> RedirectResponse:
    """Delete after confirmation."""
    await db.write(todo_service.delete_for_owner, principal=principal, todo_id=todo["id"])
    return redirect_to(request, "todo_page")
