"""Admin: every user and every todo, with delete. Admin role only."""

import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from backend.core.http import json_response
from backend.dependencies import AdminUser, ClientIP, DbDep, TodoId, require_admin
from backend.models import User
from backend.schemas.errors import BODY_ERRORS, UNAVAILABLE, error_responses
from backend.schemas.todos import AdminTodoQuery, AdminTodoRead
from backend.schemas.users import ActiveChange, RoleChange, UserQuery, UserRead
from backend.services import todos as todo_service
from backend.services import users as user_service

logger = logging.getLogger("backend.admin")
ADMIN_ERRORS = error_responses(401, 403)
router = APIRouter(
    prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)], responses=UNAVAILABLE | ADMIN_ERRORS
)
TOTAL_HEADER = {"X-Total-Count": {"description": "Matches before paging", "schema": {"type": "integer"}}}
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
