"""`GET /tags/`: the caller's tags with how many todos carry each."""

from fastapi import APIRouter, Request, Response

from backend.core.http import json_response
from backend.dependencies import CurrentUser, DbDep
from backend.schemas.errors import AUTH_ERRORS, UNAVAILABLE
from backend.schemas.lists import TagRead
from backend.services import tags as tag_service

router = APIRouter(prefix="/tags", tags=["tags"], responses=UNAVAILABLE)


@router.get("/", response_model=list[TagRead], responses=AUTH_ERRORS)
async def list_tags(request: Request, principal: CurrentUser, db: DbDep) -> Response:
    """Every tag on the todos the caller can see (not in the trash), by name, with counts."""
    return json_response(request, await db.read(tag_service.tag_counts, principal=principal))
