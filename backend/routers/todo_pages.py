"""The todo pages: the list, add, edit, toggle and delete, with and without JavaScript."""

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from backend.core.errors import InvalidInput, NotFound, PreconditionFailed
from backend.core.http import etag_of, matches
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
from backend.schemas.forms import TodoForm, ToggleForm
from backend.schemas.paging import pagination
from backend.schemas.todo_form import REMIND_CHOICES, body_from_form, form_values, reminder_field, reminder_label
from backend.schemas.todo_versions import FIELDS, VersionRow, side_by_side, typed
from backend.schemas.todos import TodoCreate, TodoQuery, TodoUpdate
from backend.services import todos as todo_service
from backend.services import trash as trash_service
from backend.services.principal import Principal
from backend.services.todos import TodoRow

register_todo_id()  # before any route uses {todo_id:todo_id}
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
TodoFormData = Annotated[TodoForm, Form(default_factory=TodoForm)]


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
    if not form.version:  # an old form or a script: saved over whatever is stored, as before
        return await _save_form(
            request, form, await db.read(todo_service.get_visible, todo_id=todo_id, principal=principal), principal, db
        )
    zone = principal.timezone
    try:
        todo = await db.read(todo_service.get_visible, todo_id=todo_id, principal=principal)
        if matches(form.version, etag_of(todo)):
            try:
                return await _save_form(request, form, todo, principal, db, if_unchanged=True)
            except PreconditionFailed:  # changed between the read and the write
                todo = await db.read(todo_service.get_visible, todo_id=todo_id, principal=principal)
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
