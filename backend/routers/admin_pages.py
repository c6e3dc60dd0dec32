"""The admin page: search users, change their role and standing, delete users and todos.

Every action is a form post (with the page's CSRF token) to the same services the JSON
routes in routers/admin.py call; it comes back to the same search and offsets with a
notice, or, refused, shows the reason there. What cannot be taken back is asked first, as
the todo list's delete is: a link to a confirmation page whose form posts to the same
path, which admin.js turns into the page's dialog and a call of the JSON API.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from backend.core.errors import Conflict, NotFound
from backend.core.redirects import with_query
from backend.core.templating import render
from backend.core.urls import url_path
from backend.core.zones import day_label, local, today_in
from backend.dependencies import AdminUser, ClientIP, DbDep, TodoId, mark_page, require_admin
from backend.routers import admin as admin_api
from backend.routers.admin import UsernamePath
from backend.schemas.admin_pages import AdminActiveForm, AdminPageQuery, AdminPlace, AdminRoleForm
from backend.schemas.paging import pagination
from backend.schemas.users import ActiveChange, RoleChange, UserRead
from backend.services import todos as todo_service
from backend.services import users as user_service
from backend.services.principal import Principal

# mark_page first, so a refusal of require_admin is an HTML page.
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page), Depends(require_admin)])
PAGE_SIZE = 20
# After an action, `?done=<key>&who=<username>` shows one of these.
NOTICES = {
    "admin": "{who} is now an admin.",
    "user": "{who} is now a plain user.",
    "deactivated": "{who} was deactivated; their sessions ended.",
    "reactivated": "{who} was reactivated and can log in again.",
    "deleted": "{who} was deleted, with all of their todos.",
    "todo_deleted": "The todo was deleted.",
}
# What the dialog and the confirmation page ask; "{name}" is the user or the todo's title.
ASK = {
    "delete_user": {
        "title": "Delete {name}?",
        "text": "Their account and all of their todos are deleted for good. This cannot be undone.",
        "label": "Delete",
    },
    "delete_todo": {
        "title": "Delete this todo?",
        "text": "“{name}” is deleted for good, from its owner's trash too. This cannot be undone.",
        "label": "Delete",
    },
    "deactivate": {
        "title": "Deactivate {name}?",
        "text": "They are logged out everywhere at once and cannot log in until an admin reactivates them.",
        "label": "Deactivate",
    },
    "reactivate": {"title": "Reactivate {name}?", "text": "They can log in again.", "label": "Reactivate"},
    "demote": {
        "title": "Make {name} a plain user?",
        "text": "They lose their admin rights at once. An admin can make them an admin again.",
        "label": "Make plain user",
    },
    "promote": {
        "title": "Make {name} an admin?",
        "text": "They can manage every user and todo.",
        "label": "Make admin",
    },
}
REFUSALS = (Conflict, NotFound)  # shown on the page in plain words; anything else is an error page


async def admin_page_with(
    request: Request,
    admin: Principal,
    db: DbDep,
    place: AdminPlace,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The admin page at `place`, with an action's notice or the reason it was refused."""
    users, user_total = await db.read(
        user_service.list_users, q=place.q or None, limit=PAGE_SIZE, offset=place.user_offset
    )
    todos, todo_total = await db.read(todo_service.list_all, owner=None, limit=PAGE_SIZE, offset=place.todo_offset)
    today = today_in(admin.timezone)
    user_paging = pagination(user_total, PAGE_SIZE, place.user_offset)
    todo_paging = pagination(todo_total, PAGE_SIZE, place.todo_offset)
    page_path = url_path(request, "admin_page")

    def here(path: str, /, **extra: object) -> str:
        """`path` with this place's search and offsets (and `extra`) as its query."""
        return with_query(path, {**place.query(), **extra})

    def link(key: str, offset: int | None) -> str | None:
        return None if offset is None else here(page_path, **{key: offset or None})

    context = {
        "users": [
            {
                **UserRead.model_validate(user).model_dump(),
                "is_self": user.id == admin.id,
                "joined_label": day_label(local(user.created_at, admin.timezone).date(), today),
            }
            for user in users
        ],
        "todos": [{**todo, "due_label": todo_service.due_label(todo, today)} for todo in todos],
        "user_paging": user_paging,
        "todo_paging": todo_paging,
        "links": {
            "users_prev": link("user_offset", user_paging["prev_offset"]),
            "users_next": link("user_offset", user_paging["next_offset"]),
            "todos_prev": link("todo_offset", todo_paging["prev_offset"]),
            "todos_next": link("todo_offset", todo_paging["next_offset"]),
        },
        "place": place,
        "here": here,
        "ask": ASK,
        "notice": notice,
        "problem": problem,
    }
    return render(request, "admin.html", context, status_code=status)


@pages.get("/admin-page", response_class=HTMLResponse, name="admin_page")
async def admin_page(
    request: Request, admin: AdminUser, db: DbDep, query: Annotated[AdminPageQuery, Query()]
) -> HTMLResponse:
    """Users (searched by username or email) and all todos, paged, with their actions."""
    place = AdminPlace.model_construct(
        q=(query.q or "").strip(), user_offset=query.user_offset, todo_offset=query.todo_offset
    )
    template = NOTICES.get(query.done)
    notice = template.format(who=query.who) if template and (query.who or "{who}" not in template) else None
    return await admin_page_with(request, admin, db, place, notice=notice)


async def _act(
    request: Request, admin: Principal, db: DbDep, place: AdminPlace, action: Callable[[], Awaitable[str]], done: str
) -> Response:
    """Run an action; back to `place` with its notice, or the page with the refusal's reason."""
    try:
        who = await action()
    except REFUSALS as exc:
        return await admin_page_with(request, admin, db, place, problem=exc.message, status=exc.status_code)
    target = with_query(url_path(request, "admin_page"), {**place.query(), "done": done, "who": who})
    return RedirectResponse(target, status_code=303)


def _confirm(request: Request, place: AdminPlace, kind: str, name: str, action: str, **fields: object) -> HTMLResponse:
    """The confirmation page (without JavaScript); its form posts to `action`."""
    ask = ASK[kind]
    context = {
        "heading": ask["title"].replace("{name}", name),
        "text": ask["text"].replace("{name}", name),
        "label": ask["label"],
        "place": place,
        "fields": fields,
        "action": action,
        "cancel_url": with_query(url_path(request, "admin_page"), place.query()),
    }
    return render(request, "admin_confirm.html", context)


@pages.get("/admin-page/users/{username}/role", response_class=HTMLResponse, name="admin_role_page")
async def admin_role_page(
    request: Request, username: UsernamePath, form: Annotated[AdminRoleForm, Query()]
) -> HTMLResponse:
    """Ask before changing a user's role (the no-JavaScript path of "Make plain user")."""
    kind = "promote" if form.role == "admin" else "demote"
    action = url_path(request, "admin_role_submit", username=quote(username, safe=""))
    return _confirm(request, form, kind, username, action, role=form.role)


@pages.post("/admin-page/users/{username}/role", name="admin_role_submit", response_model=None)
async def admin_role_submit(
    request: Request,
    username: UsernamePath,
    admin: AdminUser,
    db: DbDep,
    ip: ClientIP,
    form: Annotated[AdminRoleForm, Form()],
) -> Response:
    """Make a user an admin, or a plain user again."""

    async def action() -> str:
        return (await admin_api.set_role(username, RoleChange(role=form.role), admin, db, ip)).username

    return await _act(request, admin, db, form, action, form.role)


@pages.get("/admin-page/users/{username}/active", response_class=HTMLResponse, name="admin_active_page")
async def admin_active_page(
    request: Request, username: UsernamePath, form: Annotated[AdminActiveForm, Query()]
) -> HTMLResponse:
    """Ask before deactivating a user (the no-JavaScript path of "Deactivate")."""
    kind = "reactivate" if form.is_active else "deactivate"
    action = url_path(request, "admin_active_submit", username=quote(username, safe=""))
    return _confirm(request, form, kind, username, action, is_active=str(form.is_active).lower())


@pages.post("/admin-page/users/{username}/active", name="admin_active_submit", response_model=None)
async def admin_active_submit(
    request: Request,
    username: UsernamePath,
    admin: AdminUser,
    db: DbDep,
    ip: ClientIP,
    form: Annotated[AdminActiveForm, Form()],
) -> Response:
    """Deactivate a user (their sessions end at once) or reactivate them."""

    async def action() -> str:
        changed = await admin_api.set_active(username, ActiveChange(is_active=form.is_active), admin, db, ip)
        return changed.username

    return await _act(request, admin, db, form, action, "reactivated" if form.is_active else "deactivated")


@pages.get("/admin-page/users/{username}/delete", response_class=HTMLResponse, name="admin_delete_user_page")
async def admin_delete_user_page(
    request: Request, username: UsernamePath, place: Annotated[AdminPlace, Query()]
) -> HTMLResponse:
    """Ask before deleting a user (the no-JavaScript path; scripts use a dialog)."""
    action = url_path(request, "admin_delete_user_submit", username=quote(username, safe=""))
    return _confirm(request, place, "delete_user", username, action)


@pages.post("/admin-page/users/{username}/delete", name="admin_delete_user_submit", response_model=None)
async def admin_delete_user_submit(
    request: Request,
    username: UsernamePath,
    admin: AdminUser,
    db: DbDep,
    ip: ClientIP,
    place: Annotated[AdminPlace, Form(default_factory=AdminPlace)],
) -> Response:
    """Delete a user with their todos, after confirmation."""

    async def action() -> str:
        await admin_api.delete_user(username, admin, db, ip)
        return username

    return await _act(request, admin, db, place, action, "deleted")


@pages.get("/admin-page/todos/{todo_id}/delete", response_class=HTMLResponse, name="admin_delete_todo_page")
async def admin_delete_todo_page(
    request: Request, todo_id: TodoId, db: DbDep, place: Annotated[AdminPlace, Query()]
) -> HTMLResponse:
    """Ask before deleting anyone's todo (the no-JavaScript path; scripts use a dialog)."""
    todo = await db.read(todo_service.get_any, todo_id=todo_id)
    action = url_path(request, "admin_delete_todo_submit", todo_id=todo_id)
    return _confirm(request, place, "delete_todo", todo["title"], action)


@pages.post("/admin-page/todos/{todo_id}/delete", name="admin_delete_todo_submit", response_model=None)
async def admin_delete_todo_submit(
    request: Request,
    todo_id: TodoId,
    admin: AdminUser,
    db: DbDep,
    ip: ClientIP,
    place: Annotated[AdminPlace, Form(default_factory=AdminPlace)],
) -> Response:
    """Delete any todo, after confirmation."""

    async def action() -> str:
        await admin_api.delete_any_todo(todo_id, admin, db, ip)
        return ""

    return await _act(request, admin, db, place, action, "todo_deleted")
