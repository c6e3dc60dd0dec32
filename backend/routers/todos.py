"""Todos: the JSON API and the todo pages, both on `services.todos`."""

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from backend.core.errors import InvalidInput, NotFound, PreconditionFailed
from backend.core.http import dump_json, etag_of, json_response, matches
from backend.core.redirects import safe_next, with_query
from backend.core.routing import register_todo_id
from backend.core.state import app_state
from backend.core.templating import render
from backend.core.urls import redirect_to, url_path
from backend.core.validation import field_errors
from backend.core.zones import today_in
from backend.database.session import Database
from backend.dependencies import CurrentUser, DbDep, OwnedTodo, TodoId, mark_page
from backend.routers.drafts import forget_draft, restore_draft
from backend.routers.idempotent import answer_once, answer_response
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, Problems, Responses, error_responses
from backend.schemas.forms import TodoForm, ToggleForm
from backend.schemas.idempotency import IN_PROGRESS, KEY_REUSED, REPLAYED, IdempotencyKeyHeader
from backend.schemas.paging import pagination
from backend.schemas.todo_form import REMIND_CHOICES, body_from_form, form_values, reminder_field, reminder_label
from backend.schemas.todo_versions import FIELDS, VersionRow, side_by_side, typed
from backend.schemas.todos import TodoCreate, TodoPatch, TodoQuery, TodoRead, TodoUpdate
from backend.services import positions as position_service
from backend.services import todos as todo_service
from backend.services import trash as trash_service
from backend.services.idempotency import Answer, Keep
from backend.services.principal import Principal
from backend.services.todos import CHANGED_ELSEWHERE, TodoRow

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
    today = today_in(principal.timezone)
    rows, total = await db.read(todo_service.list_visible, principal=principal, query=query, today=today)
    return json_response(request, rows, headers={"X-Total-Count": str(total)}, etag=True)


@router.get(
    "/{todo_id:todo_id}",
    response_model=TodoRead,
    responses={200: {"headers": {"ETag": LIST_HEADERS["ETag"]}}, **NOT_MODIFIED, **READ_ERRORS},
)
async def read_todo(request: Request, todo: OwnedTodo) -> Response:
    """One of the caller's todos."""
    return json_response(request, todo, etag=True)


def created_answer(todo: TodoRow) -> Answer:
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
        return answer_response(created_answer(await db.write(todo_service.create, principal=principal, data=data)))

    async def create(keep: Keep) -> Answer:
        def store_answer(session: Session, todo: TodoRow) -> None:
            keep(session, created_answer(todo))

        todo = await db.write(todo_service.create, principal=principal, data=data, before_commit=store_answer)
        return created_answer(todo)

    return await answer_once(request, principal, idempotency_key, create)


IfMatch = Annotated[
    str | None,
    Header(description="The todo's `ETag` as last read: the write happens only if it is still that version (else 412)"),
]
VERSIONED_WRITE: Responses = {
    200: {"headers": {"ETag": LIST_HEADERS["ETag"]}},
    **WRITE_ERRORS,
    **error_responses(404, 412),
}


async def _replace(
    request: Request, todo: TodoRow, data: TodoUpdate, if_match: str | None, principal: Principal, db: Database
) -> Response:
    if if_match is not None and not matches(if_match, etag_of(todo)):
        raise PreconditionFailed(CHANGED_ELSEWHERE)
    updated = await db.write(
        todo_service.replace, principal=principal, todo=todo, data=data, if_unchanged=if_match is not None
    )
    return json_response(request, updated, etag=True)


@router.put("/todo/{todo_id}", response_model=TodoRead, responses=VERSIONED_WRITE)
async def update_todo(
    request: Request, data: TodoUpdate, todo: OwnedTodo, principal: CurrentUser, db: DbDep, if_match: IfMatch = None
) -> Response:
    """Replace every editable field of one of the caller's todos (only that version of it, with If-Match)."""
    return await _replace(request, todo, data, if_match, principal, db)


@router.patch("/todo/{todo_id}", response_model=TodoRead, responses=VERSIONED_WRITE)
async def patch_todo(
    request: Request, data: TodoPatch, todo: OwnedTodo, principal: CurrentUser, db: DbDep, if_match: IfMatch = None
) -> Response:
    """Change only the fields given (`{"complete": true}`, say); answers with the whole todo.

    `{"position": n}` moves it to the n-th place (0-based) of its list."""
    changes = data.model_dump(exclude_unset=True)
    position = changes.pop("position", None)
    if if_match is not None and not matches(if_match, etag_of(todo)):
        raise PreconditionFailed(CHANGED_ELSEWHERE)
    if changes or position is None:
        merged = {field: todo[field] for field in TodoUpdate.model_fields} | changes  # type: ignore[literal-required]
        try:
            replacement = TodoUpdate.model_validate(merged)
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
            raise RequestValidationError(errors) from None
        todo = await db.write(
            todo_service.replace, principal=principal, todo=todo, data=replacement, if_unchanged=if_match is not None
        )
    if position is not None:
        todo = await db.write(position_service.move, principal=principal, todo=todo, index=position)
    return json_response(request, todo, etag=True)


@router.delete("/todo/{todo_id}", status_code=204, responses=AUTH_ERRORS | error_responses(403, 404))
async def delete_todo(todo_id: TodoId, principal: CurrentUser, db: DbDep) -> Response:
    """Delete one of the caller's todos."""
    await db.write(todo_service.delete_visible, principal=principal, todo_id=todo_id)
    return Response(status_code=204)


# --- pages ------------------------------------------------------------------------------


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
    today = today_in(principal.timezone)  # "today" and "Overdue" are the user's own
    rows, total = await db.read(todo_service.list_visible, principal=principal, query=query, today=today)
    filters = query.model_dump(exclude={"offset"}, exclude_defaults=True)
    paging = pagination(total, query.limit, query.offset)
    here = url_path(request, "todo_page")
    links = {
        key: with_query(here, {**filters, "offset": paging[key]})
        for key in ("prev_offset", "next_offset")
        if paging[key] is not None
    }
    deleted = request.query_params.get("deleted", "")
    title = None
    if deleted.isascii() and deleted.isdigit() and len(deleted) < 19:
        title = await db.read(trash_service.trashed_title, owner_id=principal.id, todo_id=int(deleted))
    context = {
        "undo": None if title is None else {"id": int(deleted), "title": title},
        "todos": todo_service.for_display(rows, today),
        "today": today.isoformat(),
        "query": query,
        "paging": paging,
        "links": links,
        "return_to": with_query(here, {**filters, "offset": query.offset or None}),
        "has_todos": principal.todo_count > 0,
    }
    return render(request, "todos.html", context)


def _render_form(
    request: Request,
    todo: TodoRow | None,
    values: Mapping[str, object],
    errors: dict[str, list[str]],
    zone: str,
    conflict: list[VersionRow] | None = None,
) -> HTMLResponse:
    context = {
        "todo": todo,
        "values": values,
        "errors": errors,
        "zone": zone,
        "remind_choices": REMIND_CHOICES,
        "keep_label": reminder_label(str(values.get("remind_keep") or ""), zone),
        "conflict": conflict,
    }
    status = 409 if conflict else 422 if errors else 200
    return render(request, "todo_form.html", context, status_code=status)


async def _form_page(request: Request, todo: TodoRow | None, values: Mapping[str, object], zone: str) -> HTMLResponse:
    """The add or edit form, showing what was typed before a session ended, if anything."""
    draft = await restore_draft(request)
    response = _render_form(request, todo, TodoForm.model_validate(draft).model_dump() if draft else values, {}, zone)
    if draft is not None:
        forget_draft(response)
    return response


def _form_errors(errors: Iterable[Mapping[str, Any]], form: TodoForm) -> dict[str, list[str]]:
    """Validation errors by form field; those about `remind_at` go to the reminder choice."""
    shown = field_errors(errors)
    if "remind_at" in shown:
        shown.setdefault(reminder_field(form.remind), []).extend(shown.pop("remind_at"))
    return shown


async def _save_form(
    request: Request,
    form: TodoForm,
    todo: TodoRow | None,
    principal: Principal,
    db: Database,
    *,
    if_unchanged: bool = False,
) -> Response:
    """Add (`todo` None) or replace a todo from the form; errors are shown on the form.

    With `if_unchanged`, only while the todo is still the version `todo` was read as."""
    values, zone = form.model_dump(), principal.timezone
    body, errors = body_from_form(form, zone)
    try:
        data = TodoCreate.model_validate(body) if todo is None else TodoUpdate.model_validate(body)
    except ValidationError as exc:
        errors = _form_errors(exc.errors(), form) | errors
    if errors:
        return _render_form(request, todo, values, errors, zone)
    try:
        if todo is None:
            await db.write(todo_service.create, principal=principal, data=data)
        else:
            await db.write(todo_service.replace, principal=principal, todo=todo, data=data, if_unchanged=if_unchanged)
    except InvalidInput as exc:
        return _render_form(request, todo, values, _form_errors(exc.errors, form), zone)
    return redirect_to(request, "todo_page")


@pages.get("/add-todo-page", response_class=HTMLResponse, name="add_todo_page")
async def add_todo_page(request: Request, principal: CurrentUser) -> HTMLResponse:
    """The new-todo form."""
    return await _form_page(request, None, {"priority": 3}, principal.timezone)


@pages.post("/add-todo-page", name="add_todo_submit", response_model=None)
async def add_todo_submit(request: Request, principal: CurrentUser, db: DbDep, form: TodoFormData) -> Response:
    """Create a todo from the form."""
    return await _save_form(request, form, None, principal, db)


@pages.get("/edit-todo-page/{todo_id}", response_class=HTMLResponse, name="edit_todo_page")
async def edit_todo_page(request: Request, todo: OwnedTodo, principal: CurrentUser) -> HTMLResponse:
    """The edit form for one of the caller's todos, carrying the version it shows."""
    return await _form_page(request, todo, {**form_values(todo), "version": etag_of(todo)}, principal.timezone)


@pages.post("/edit-todo-page/{todo_id}", name="edit_todo_submit", response_model=None)
async def edit_todo_submit(
    request: Request, todo_id: TodoId, principal: CurrentUser, db: DbDep, form: TodoFormData
) -> Response:
    """Save the edit form over the version it was opened with; if that changed or went, show
    the conflict (409) or deleted (404) screen with what was typed, and write nothing."""
    read = {"todo_id": todo_id, "principal": principal}
    if not form.version:  # an old form or a script: saved over whatever is stored, as before
        return await _save_form(request, form, await db.read(todo_service.get_visible, **read), principal, db)
    zone = principal.timezone
    try:
        todo = await db.read(todo_service.get_visible, **read)
        if matches(form.version, etag_of(todo)):
            try:
                return await _save_form(request, form, todo, principal, db, if_unchanged=True)
            except PreconditionFailed:  # changed between the read and the write
                todo = await db.read(todo_service.get_visible, **read)
    except NotFound:
        title = await db.read(trash_service.trashed_title, owner_id=principal.id, todo_id=todo_id)
        context = {"todo_id": todo_id, "in_trash": title is not None, "fields": FIELDS, "typed": typed(form, zone)}
        return render(request, "todo_deleted.html", {**context, "values": form.model_dump()}, status_code=404)
    # "Keep mine" re-posts what was typed with the version now stored.
    values = {**form.model_dump(), "version": etag_of(todo)}
    return _render_form(request, todo, values, {}, zone, conflict=side_by_side(todo, form, zone))


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
    return render(request, "confirm_delete.html", {"todo": todo, "trash_days": app_state(request).settings.TRASH_DAYS})


@pages.post("/delete-todo-page/{todo_id}", name="delete_todo_submit")
async def delete_todo_submit(request: Request, todo: OwnedTodo, principal: CurrentUser, db: DbDep) -> RedirectResponse:
    """Delete (to the trash) after confirmation; the list then offers Undo."""
    await db.write(todo_service.delete_visible, principal=principal, todo_id=todo["id"])
    return RedirectResponse(with_query(url_path(request, "todo_page"), {"deleted": todo["id"]}), status_code=303)
