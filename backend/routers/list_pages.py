"""A list's pages: create one, its settings (rename, share, remove members) and its deletion.

Who may do what is services/access.py's: anyone who can see a list sees its settings page;
only its owner gets the forms, and anyone else posting them gets a 403 page."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from backend.core.errors import AppError, PermissionDenied
from backend.core.redirects import add_query
from backend.core.templating import render
from backend.core.urls import url_path
from backend.database.session import Database
from backend.dependencies import CurrentUser, DbDep, current_principal, mark_page
from backend.schemas.forms import ListForm, MemberForm, ShareForm
from backend.schemas.lists import ListCreate, MemberAdd
from backend.services import list_page as list_page_service
from backend.services import lists as list_service
from backend.services.access import LIST_NOT_FOUND, OWNER_ONLY
from backend.services.principal import Principal

pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
ListId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOTICES = {
    "renamed": "List renamed.",
    "shared": "Shared.",
    "removed": "Removed from the list.",
}
ROLES = {"viewer": "Viewer (can see the todos)", "editor": "Editor (can also add, change and delete todos)"}


async def _settings(
    request: Request,
    list_id: int,
    principal: Principal,
    db: Database,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await db.read(list_page_service.read_settings, principal=principal, list_id=list_id)
    context: dict[str, Any] = {
        **found,
        "is_owner": found["list"]["role"] == "owner",
        "roles": ROLES,
        "values": {"name": found["list"]["name"], "username": "", "role": "editor", **(values or {})},
        "errors": errors or {},
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return render(request, "list_settings.html", context, status_code=status_code)


def _to_settings(request: Request, list_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(
        add_query(url_path(request, "list_settings_page", list_id=list_id), {"notice": notice}), 303
    )


def _list_view(request: Request, list_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(add_query(url_path(request, "todo_page"), {"list_id": list_id, "notice": notice}), 303)


PLAIN = {"string_too_short": "Enter a {field}", "string_too_long": "Use at most {max_length} characters"}


def _errors(exc: ValidationError | AppError, field: str) -> dict[str, list[str]]:
    """The reasons, in plain words, beside the form's `field`."""
    if isinstance(exc, AppError):
        return {field: [exc.message]}
    messages = []
    for error in exc.errors(include_url=False):
        plain = PLAIN.get(error["type"])
        context = {"field": "name" if field == "name" else "username", **error.get("ctx", {})}
        messages.append(plain.format(**context) if plain else str(error["msg"]))
    return {field: list(dict.fromkeys(messages))}


@pages.get("/list-page", response_class=HTMLResponse, name="new_list_page", dependencies=[Depends(current_principal)])
async def new_list_page(request: Request) -> HTMLResponse:
    """The new-list form (the sidebar has the same one)."""
    return render(request, "list_new.html", {"values": {"name": ""}, "errors": {}})


@pages.post("/list-page", name="create_list_submit", response_model=None)
async def create_list_submit(
    request: Request, principal: CurrentUser, db: DbDep, form: Annotated[ListForm, Form(default_factory=ListForm)]
) -> Response:
    """Make a new list and show it (its name is checked as the API checks it)."""
    try:
        created = await db.write(
            list_service.create_list, principal=principal, data=ListCreate.model_validate({"name": form.name})
        )
    except (ValidationError, AppError) as exc:
        errors = _errors(exc, "name")
        return render(request, "list_new.html", {"values": {"name": form.name}, "errors": errors}, status_code=422)
    return _list_view(request, created["id"], "list-created")


@pages.get("/list-page/{list_id}", response_class=HTMLResponse, name="list_settings_page")
async def list_settings_page(request: Request, list_id: ListId, principal: CurrentUser, db: DbDep) -> HTMLResponse:
    """A list's name and members; its owner may rename, share or delete it here."""
    return await _settings(request, list_id, principal, db)


@pages.post("/list-page/{list_id}/rename", name="rename_list_submit", response_model=None)
async def rename_list_submit(
    request: Request,
    list_id: ListId,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[ListForm, Form(default_factory=ListForm)],
) -> Response:
    """Rename the list (its owner only), keeping its colour."""
    found = await db.read(list_service.get_list, principal=principal, list_id=list_id)
    try:
        data = ListCreate.model_validate({"name": form.name, "color": found["color"]})
        await db.write(list_service.update_list, principal=principal, list_id=list_id, data=data)
    except (ValidationError, AppError) as exc:
        if isinstance(exc, AppError) and exc.status_code in (401, 403, 404):
            raise
        errors = _errors(exc, "name")
        return await _settings(
            request, list_id, principal, db, values={"name": form.name}, errors=errors, status_code=422
        )
    return _to_settings(request, list_id, "renamed")


@pages.get("/list-page/{list_id}/delete", response_class=HTMLResponse, name="delete_list_page")
async def delete_list_page(request: Request, list_id: ListId, principal: CurrentUser, db: DbDep) -> HTMLResponse:
    """Ask before deleting a list (its owner only)."""
    found = await db.read(list_service.get_list, principal=principal, list_id=list_id)
    if found["role"] != "owner":
        raise PermissionDenied(OWNER_ONLY)
    return render(request, "list_delete.html", {"list": found})


@pages.post("/list-page/{list_id}/delete", name="delete_list_submit")
async def delete_list_submit(request: Request, list_id: ListId, principal: CurrentUser, db: DbDep) -> RedirectResponse:
    """Delete the list after confirmation; its todos go to the trash."""
    await db.write(list_service.delete_list, principal=principal, list_id=list_id)
    return RedirectResponse(add_query(url_path(request, "todo_page"), {"notice": "list-deleted"}), 303)


@pages.post("/list-page/{list_id}/members", name="share_list_submit", response_model=None)
async def share_list_submit(
    request: Request,
    list_id: ListId,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[ShareForm, Form(default_factory=ShareForm)],
) -> Response:
    """Share the list with someone as viewer or editor (or change their role)."""
    values = {"username": form.username, "role": form.role}
    try:
        data = MemberAdd.model_validate(values)
        await db.write(list_service.add_member, principal=principal, list_id=list_id, data=data)
    except (ValidationError, AppError) as exc:
        if isinstance(exc, AppError) and exc.status_code in (401, 403) or _is_list_missing(exc):
            raise
        errors = _errors(exc, "username")
        return await _settings(request, list_id, principal, db, values=values, errors=errors, status_code=422)
    return _to_settings(request, list_id, "shared")


@pages.post("/list-page/{list_id}/members/remove", name="remove_member_submit")
async def remove_member_submit(
    request: Request,
    list_id: ListId,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[MemberForm, Form(default_factory=MemberForm)],
) -> RedirectResponse:
    """Take someone off the list (the owner), or leave it (a member, removing themselves)."""
    await db.write(list_service.remove_member, principal=principal, list_id=list_id, username=form.username)
    if form.username.lower() == principal.username.lower():
        return RedirectResponse(url_path(request, "todo_page"), 303)
    return _to_settings(request, list_id, "removed")


def _is_list_missing(exc: Exception) -> bool:
    return isinstance(exc, AppError) and exc.status_code == 404 and exc.message == LIST_NOT_FOUND
