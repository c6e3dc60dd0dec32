"""Lists and sharing: `/lists/…`. Who may do what: services/access.py."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from backend.core.http import json_response
from backend.dependencies import CurrentUser, DbDep
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, UNAVAILABLE, error_responses
from backend.schemas.lists import ListCreate, ListRead, MemberAdd, MemberRead
from backend.services import lists as list_service

router = APIRouter(prefix="/lists", tags=["lists"], responses=UNAVAILABLE)
ListId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The list's id")]
MemberName = Annotated[str, Path(min_length=1, max_length=32, description="Username (any case)")]
READ = AUTH_ERRORS | error_responses(404)
OWNER_WRITE = AUTH_ERRORS | BODY_ERRORS | error_responses(403, 404, 409)


@router.get("/", response_model=list[ListRead], responses=AUTH_ERRORS)
async def list_lists(request: Request, principal: CurrentUser, db: DbDep) -> Response:
    """The caller's own lists (the Inbox first) and those shared with them, with counts."""
    return json_response(request, await db.read(list_service.list_rows, principal=principal))


@router.post("/", status_code=201, response_model=ListRead, responses=AUTH_ERRORS | BODY_ERRORS | error_responses(409))
async def create_list(request: Request, data: ListCreate, principal: CurrentUser, db: DbDep) -> Response:
    """A new list; its name must differ from the caller's other lists' (ignoring case)."""
    row = await db.write(list_service.create_list, principal=principal, data=data)
    return json_response(request, row, status_code=201, headers={"Location": f"/lists/{row['id']}"})


@router.get("/{list_id}", response_model=ListRead, responses=READ)
async def read_list(request: Request, list_id: ListId, principal: CurrentUser, db: DbDep) -> Response:
    """One list the caller owns or is a member of."""
    return json_response(request, await db.read(list_service.get_list, principal=principal, list_id=list_id))


@router.put("/{list_id}", response_model=ListRead, responses=OWNER_WRITE)
async def update_list(
    request: Request, list_id: ListId, data: ListCreate, principal: CurrentUser, db: DbDep
) -> Response:
    """Rename or recolour a list (its owner only)."""
    row = await db.write(list_service.update_list, principal=principal, list_id=list_id, data=data)
    return json_response(request, row)


@router.delete("/{list_id}", status_code=204, responses=AUTH_ERRORS | error_responses(403, 404, 409))
async def delete_list(list_id: ListId, principal: CurrentUser, db: DbDep) -> Response:
    """Delete a list (its owner only, never the last one); its todos go to the trash."""
    await db.write(list_service.delete_list, principal=principal, list_id=list_id)
    return Response(status_code=204)


@router.get("/{list_id}/members", response_model=list[MemberRead], responses=READ)
async def list_members(request: Request, list_id: ListId, principal: CurrentUser, db: DbDep) -> Response:
    """Who the list is shared with, and as what."""
    return json_response(request, await db.read(list_service.members, principal=principal, list_id=list_id))


@router.post(
    "/{list_id}/members",
    status_code=201,
    response_model=MemberRead,
    responses={200: {"description": "Already a member: role changed", "model": MemberRead}, **OWNER_WRITE},
)
async def add_member(request: Request, list_id: ListId, data: MemberAdd, principal: CurrentUser, db: DbDep) -> Response:
    """Share the list as viewer (reads) or editor (also creates, edits, completes, deletes todos)."""
    row, added = await db.write(list_service.add_member, principal=principal, list_id=list_id, data=data)
    return json_response(request, row, status_code=201 if added else 200)


@router.delete("/{list_id}/members/{username}", status_code=204, responses=AUTH_ERRORS | error_responses(403, 404))
async def remove_member(list_id: ListId, username: MemberName, principal: CurrentUser, db: DbDep) -> Response:
    """Unshare: the owner removes anyone; a member may remove themselves."""
    await db.write(list_service.remove_member, principal=principal, list_id=list_id, username=username)
    return Response(status_code=204)
