"""The todo pages: the list, add, edit, toggle, move and delete, with and without JavaScript."""

from collections.abc import Iterable, Mapping
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from backend.core.errors import InvalidInput, NotFound, PreconditionFailed
from backend.core.http import etag_of, matches
from backend.core.redirects import add_query, safe_next, with_query
from backend.core.routing import register_todo_id
from backend.core.state import app_state
from backend.core.templating import render
from backend.core.urls import url_path
from backend.core.validation import field_errors
from backend.core.zones import today_in
from backend.database.session import Database
from backend.dependencies import CurrentUser, DbDep, OwnedTodo, TodoId, mark_page
from backend.routers.drafts import forget_draft, restore_draft
from backend.schemas.forms import IdsForm, MoveForm, TodoForm, ToggleForm
from backend.schemas.paging import pagination
from backend.schemas.todo_form import REMIND_CHOICES, body_from_form, form_values, reminder_field, reminder_label
from backend.schemas.todo_versions import FIELDS, VersionRow, side_by_side, typed
from backend.schemas.todos import TodoCreate, TodoQuery, TodoUpdate
from backend.services import list_page as list_page_service
from backend.services import todo_bulk as bulk_service
from backend.services import todos as todo_service
from backend.services import trash as trash_service
from backend.services.access import INBOX
from backend.services.list_page import ListPage
from backend.services.principal import Principal
from backend.services.todo_bulk import MAX_CLEARED
from backend.services.todos import TodoRow

register_todo_id()  # before any route uses {todo_id:todo_id}
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
TodoFormData = Annotated[TodoForm, Form(default_factory=TodoForm)]


def query_of(params: Iterable[tuple[str, str]]) -> TodoQuery:
    """A list query from query-string pairs: empty fields ("All", "Any") mean "not set",
    and `tag` may repeat. ValidationError when a value is not one the list takes."""
    fields: dict[str, Any] = {}
    for key, value in params:
        if value == "":
            continue
        if key == "tag":
            fields.setdefault("tag", []).append(value)
        else:
            fields[key] = value
    return TodoQuery.model_validate(fields)


async def _list_query(request: Request) -> TodoQuery:
    """The list's filter form sends empty fields for "All" / "Any": they mean "not set"."""
    try:
        return query_of(request.query_params.multi_items())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


def query_in(target: str) -> TodoQuery:
    """The list query a list page address carries (a form's `return_to`); the default one if it is not valid."""
    try:
        return query_of(parse_qsl(target.partition("?")[2]))
    except ValidationError:
        return TodoQuery()


ListQuery = Annotated[TodoQuery, Depends(_list_query)]
NOTICES = {
    "saved": "Saved.",
    "completed": "Completed.",
    "reopened": "Reopened.",
    "moved": "Moved.",
    "restored": "Restored.",
    "list-created": "List created.",
    "list-deleted": "List deleted. Its todos are in the trash.",
    "nothing-cleared": "There were no completed todos to clear.",
}


def return_target(request: Request, target: str | None) -> str:
    """Where a form goes back to: the list page it came from (same filters, sort and offset)."""
    return safe_next(target, url_path(request, "todo_page"))


def back_to(request: Request, target: str | None, **notice: object) -> RedirectResponse:
    """303 to the list page a form came from, with what happened in its query."""
    return RedirectResponse(add_query(return_target(request, target), notice), status_code=303)


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


async def _notice(request: Request, page: ListPage, principal: Principal, db: Database) -> str | None:
    """The confirmation the address asks for ("Saved.", "Added to Work.", "Completed 3 todos.")."""
    params = request.query_params
    added = _number(params.get("added", ""))
    if added is not None:
        names = {row["id"]: row["name"] for row in page.lists}
        try:
            todo = await db.read(todo_service.get_visible, principal=principal, todo_id=added)
        except NotFound:
            return None
        return f"Added to {names.get(todo['list_id'], INBOX)}."
    for key, verb in (("completed", "Completed"), ("restored", "Restored")):
        count = _number(params.get(key, ""))
        if count is not None:
            return f"{verb} {count} {'todo' if count == 1 else 'todos'}."
    return NOTICES.get(params.get("notice", ""))


def _cleared(request: Request) -> list[int]:
    """The ids "Clear completed" just moved to the trash (for its Undo)."""
    return IdsForm(ids=request.query_params.get("cleared", "")).id_list(MAX_CLEARED)


async def list_page(
    request: Request,
    query: TodoQuery,
    principal: Principal,
    db: Database,
    *,
    quick: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The list page for `query`; `quick` is what was typed in quick add and why it was not added."""
    today = today_in(principal.timezone)  # "today" and "Overdue" are the user's own
    page = await db.read(list_page_service.read_page, principal=principal, query=query, today=today)
    filters = query.model_dump(exclude={"offset"}, exclude_defaults=True)
    if query.list_id is not None and query.sort == "position":
        filters.pop("sort", None)  # a list's own order is its default
    paging = pagination(page.total, query.limit, query.offset)
    here = url_path(request, "todo_page")
    links = {
        key: with_query(here, {**filters, "offset": paging[key]})
        for key in ("prev_offset", "next_offset")
        if paging[key] is not None
    }
    deleted = _number(request.query_params.get("deleted", ""))
    title = None
    if deleted is not None:
        title = await db.read(trash_service.trashed_title, owner_id=principal.id, todo_id=deleted)
    cleared = _cleared(request)
    return_to = with_query(here, {**filters, "offset": query.offset or None})
    context = {
        "undo": None if title is None else {"id": deleted, "title": title},
        "cleared": {"ids": ",".join(map(str, cleared)), "count": len(cleared)} if cleared else None,
        "notice": await _notice(request, page, principal, db),
        "todos": page.todos,
        "today": today.isoformat(),
        "query": query,
        "paging": paging,
        "links": links,
        "return_to": return_to,
        "has_todos": any(row["todo_count"] for row in page.lists),  # every list of theirs is here
        "lists": page.lists,
        "tags": page.tags,
        "current_list": page.current_list,
        "views": VIEWS,
        "shown_ids": ",".join(str(todo["id"]) for todo in page.todos if todo["can_edit"] and not todo["complete"]),
        "can_clear": page.current_list is None or page.current_list["can_edit"],
        "quick": quick or {"text": "", "error": ""},
    }
    return render(request, "todos.html", context, status_code=status_code)


VIEWS = {"today": "Today", "upcoming": "Upcoming", "overdue": "Overdue"}


@pages.get("/todo-page", response_class=HTMLResponse, name="todo_page")
async def todo_page(request: Request, query: ListQuery, principal: CurrentUser, db: DbDep) -> HTMLResponse:
    """The todo list with quick add, the sidebar, filters, sort, paging, toggle and delete."""
    return await list_page(request, query, principal, db)


def _typed(form: TodoForm) -> dict[str, Any]:
    """What was typed, to show again; `return_to` only when it is a path of this site."""
    return {**form.model_dump(), "return_to": safe_next(form.return_to, "")}


def _return_param(request: Request) -> str:
    """The list page the add or edit form returns to (`?return_to=`), when it is one of ours."""
    return return_target(request, request.query_params.get("return_to"))


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
    response = _render_form(request, todo, _typed(TodoForm.model_validate(draft)) if draft else values, {}, zone)
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
    values, zone = _typed(form), principal.timezone
    body, errors = body_from_form(form, zone)
    try:
        data = TodoCreate.model_validate(body) if todo is None else TodoUpdate.model_validate(body)
    except ValidationError as exc:
        errors = _form_errors(exc.errors(), form) | errors
    if errors:
        return _render_form(request, todo, values, errors, zone)
    try:
        if todo is None:
            created = await db.write(todo_service.create, principal=principal, data=data)
            return back_to(request, form.return_to, added=created["id"])
        await db.write(todo_service.replace, principal=principal, todo=todo, data=data, if_unchanged=if_unchanged)
    except InvalidInput as exc:
        return _render_form(request, todo, values, _form_errors(exc.errors, form), zone)
    return back_to(request, form.return_to, notice="saved")


@pages.get("/add-todo-page", response_class=HTMLResponse, name="add_todo_page")
async def add_todo_page(request: Request, principal: CurrentUser) -> HTMLResponse:
    """The new-todo form."""
    values = {"priority": 3, "return_to": _return_param(request)}
    return await _form_page(request, None, values, principal.timezone)


@pages.post("/add-todo-page", name="add_todo_submit", response_model=None)
async def add_todo_submit(request: Request, principal: CurrentUser, db: DbDep, form: TodoFormData) -> Response:
    """Create a todo from the form."""
    return await _save_form(request, form, None, principal, db)


@pages.get("/edit-todo-page/{todo_id}", response_class=HTMLResponse, name="edit_todo_page")
async def edit_todo_page(request: Request, todo: OwnedTodo, principal: CurrentUser) -> HTMLResponse:
    """The edit form for one of the caller's todos, carrying the version it shows."""
    values = {**form_values(todo), "version": etag_of(todo), "return_to": _return_param(request)}
    return await _form_page(request, todo, values, principal.timezone)


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
        return render(request, "todo_deleted.html", {**context, "values": _typed(form)}, status_code=404)
    # "Keep mine" re-posts what was typed with the version now stored.
    values = {**_typed(form), "version": etag_of(todo)}
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
    saved = await db.write(todo_service.set_complete, principal=principal, todo=todo, complete=not todo["complete"])
    return back_to(request, form.return_to, notice="completed" if saved["complete"] else "reopened")


@pages.get("/delete-todo-page/{todo_id}", response_class=HTMLResponse, name="delete_todo_page")
async def delete_todo_page(request: Request, todo: OwnedTodo) -> HTMLResponse:
    """Ask before deleting (the no-JavaScript path; scripts use a dialog)."""
    context = {
        "todo": todo,
        "trash_days": app_state(request).settings.TRASH_DAYS,
        "return_to": return_target(request, request.query_params.get("return_to")),
    }
    return render(request, "confirm_delete.html", context)


@pages.post("/delete-todo-page/{todo_id}", name="delete_todo_submit")
async def delete_todo_submit(
    request: Request,
    todo: OwnedTodo,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[ToggleForm, Form(default_factory=ToggleForm)],
) -> RedirectResponse:
    """Delete (to the trash) after confirmation; the list it came from then offers Undo."""
    await db.write(todo_service.delete_visible, principal=principal, todo_id=todo["id"])
    return back_to(request, form.return_to, deleted=todo["id"])


@pages.post("/todo-page/{todo_id}/move", name="move_todo_submit")
async def move_todo_submit(
    request: Request,
    todo: OwnedTodo,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[MoveForm, Form(default_factory=MoveForm)],
) -> RedirectResponse:
    """Move up or down within its list (the no-JavaScript equivalent of dragging)."""
    step = {"up": -1, "down": 1}.get(form.direction)
    if step is None:
        raise InvalidInput([{"type": "value_error", "loc": ["body", "direction"], "msg": "Choose up or down"}])
    await db.write(bulk_service.move_by, principal=principal, todo=todo, step=step)
    return back_to(request, form.return_to, notice="moved")
