"""Admin: every user and every todo, with delete. Admin role only."""

import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from backend.core.http import json_response
from backend.core.redirects import with_query
from backend.core.templating import render
from backend.core.urls import redirect_to, url_path
from backend.dependencies import AdminUser, ClientIP, DbDep, TodoId, mark_page, require_admin
from backend.models import User
from backend.schemas.errors import BODY_ERRORS, error_responses
from backend.schemas.paging import pagination
from backend.schemas.todos import AdminTodoQuery, AdminTodoRead
from backend.schemas.users import ActiveChange, RoleChange, UserQuery, UserRead
from backend.services import todos as todo_service
from backend.services import users as user_service

logger = logging.getLogger("backend.admin")
ADMIN_ERRORS = error_responses(401, 403)
router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
TOTAL_HEADER = {"X-Total-Count": {"description": "Matches before paging", "schema": {"type": "integer"}}}
MAX_OFFSET = 1_000_000_000
UsernamePath = Annotated[str, Path(min_length=1, max_length=32, description="Username (any case)")]


def _user_rows(users: Sequence[User]) -> list[dict[str, Any]]:
    return [UserRead.model_validate(user).model_dump() for user in users]


@router.get("/user", response_model=list[UserRead], responses={200: {"headers": TOTAL_HEADER}})
async def list_users(request: Request, query: Annotated[UserQuery, Query()], db: DbDep) -> Response:
    """Every user, paged, optionally searched by username or email."""
    users, total = await db.read(user_service.list_users, q=query.q, limit=query.limit, offset=query.offset)
    return json_response(request, _user_rows(users), headers={"X-Total-Count": str(total)})


@router.get("/todo", response_model=list[AdminTodoRead], responses={200: {"headers": TOTAL_HEADER}})
async def list_all_todos(request: Request, query: Annotated[AdminTodoQuery, Query()], db: DbDep) -> Response:
    """Every user's todos, newest first, paged, optionally for one owner."""
    rows, total = await db.read(todo_service.list_all, owner=query.owner, limit=query.limit, offset=query.offset)
    return json_response(request, rows, headers={"X-Total-Count": str(total)})


@router.delete("/todo/{todo_id}", status_code=204, responses=error_responses(404))
async def delete_any_todo(todo_id: TodoId, admin: AdminUser, db: DbDep, ip: ClientIP) -> Response:
    """Delete any todo."""
    await db.write(todo_service.delete_any, principal=admin, todo_id=todo_id)
    logger.info(
        "admin deleted todo",
        extra={"event": "admin_delete_todo", "user_id": admin.id, "todo_id": todo_id, "client": ip},
    )
    return Response(status_code=204)


@router.delete("/{username}", status_code=204, responses=error_responses(404, 409))
async def delete_user(username: UsernamePath, admin: AdminUser, db: DbDep, ip: ClientIP) -> Response:
    """Delete a user with their todos; their tokens stop working at once."""
    deleted_id = await db.write(user_service.delete_by_username, username=username, principal=admin)
    logger.info(
        "admin deleted user",
        extra={"event": "admin_delete_user", "user_id": admin.id, "deleted_user_id": deleted_id, "client": ip},
    )
    return Response(status_code=204)


@router.put("/{username}/role", response_model=UserRead, responses=error_responses(404, 409) | BODY_ERRORS)
async def set_role(username: UsernamePath, body: RoleChange, admin: AdminUser, db: DbDep, ip: ClientIP) -> User:
    """Make a user an admin, or a plain user again. Admins cannot change their own role (409)."""
    user = await db.write(user_service.set_role, principal=admin, username=username, role=body.role)
    logger.info(
        "admin changed a role",
        extra={"event": "admin_set_role", "user_id": admin.id, "target_user_id": user.id, "client": ip},
    )
    return user


@router.put("/{username}/active", response_model=UserRead, responses=error_responses(404, 409) | BODY_ERRORS)
async def set_active(username: UsernamePath, body: ActiveChange, admin: AdminUser, db: DbDep, ip: ClientIP) -> User:
    """Deactivate a user (every session of theirs ends at once, open sockets within seconds) or reactivate them."""
    user = await db.write(user_service.set_active, principal=admin, username=username, is_active=body.is_active)
    logger.info(
        "admin changed a user's standing",
        extra={"event": "admin_set_active", "user_id": admin.id, "target_user_id": user.id, "client": ip},
    )
    return user


# --- pages ------------------------------------------------------------------------------


@pages.get("/admin-page", response_class=HTMLResponse, name="admin_page")
async def admin_page(
    request: Request,
    admin: AdminUser,
    db: DbDep,
    user_offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    todo_offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """Users and all todos, paged, with delete buttons."""
    limit = 20
    users, user_total = await db.read(user_service.list_users, q=None, limit=limit, offset=user_offset)
    todos, todo_total = await db.read(todo_service.list_all, owner=None, limit=limit, offset=todo_offset)
    user_paging = pagination(user_total, limit, user_offset)
    todo_paging = pagination(todo_total, limit, todo_offset)

    def link(key: str, offset: int | None) -> str | None:
        if offset is None:
            return None
        current = {"user_offset": user_offset or None, "todo_offset": todo_offset or None}
        return with_query(url_path(request, "admin_page"), {**current, key: offset})

    context = {
        "users": [{**row, "is_self": row["id"] == admin.id} for row in _user_rows(users)],
        "todos": todos,
        "user_paging": user_paging,
        "todo_paging": todo_paging,
        "links": {
            "users_prev": link("user_offset", user_paging["prev_offset"]),
            "users_next": link("user_offset", user_paging["next_offset"]),
            "todos_prev": link("todo_offset", todo_paging["prev_offset"]),
            "todos_next": link("todo_offset", todo_paging["next_offset"]),
        },
    }
    return render(request, "admin.html", context)


@pages.post("/admin-page/users/{username}/delete", name="admin_delete_user_submit")
async def admin_delete_user_submit(
    request: Request, username: UsernamePath, admin: AdminUser, db: DbDep, ip: ClientIP
) -> RedirectResponse:
    """Delete a user from the admin page (no-JavaScript path)."""
    await delete_user(username, admin, db, ip)
    return redirect_to(request, "admin_page")


@pages.post("/admin-page/todos/{todo_id}/delete", name="admin_delete_todo_submit")
async def admin_delete_todo_submit(
    request: Request, todo_id: TodoId, admin: AdminUser, db: DbDep, ip: ClientIP
) -> RedirectResponse:
    """Delete any todo from the admin page (no-JavaScript path)."""
    await delete_any_todo(todo_id, admin, db, ip)
    return redirect_to(request, "admin_page")
