"""The calendar feed: `GET /calendar/{feed_token}.ics`, for calendar apps to subscribe to.

No login: the address is the credential (a calendar app sends no header), so it is long
and random, never logged or traced (core/secret_paths.py), and the account page (or
`POST /user/calendar/rotate`) replaces it. An unknown, replaced or deactivated address
is a plain 404.
"""

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Request, Response

from backend.core.config import Settings
from backend.core.secret_paths import CALENDAR_PREFIX
from backend.core.urls import url_path
from backend.dependencies import DbDep
from backend.schemas.errors import UNAVAILABLE, Responses, error_responses
from backend.services import calendar as calendar_service

router = APIRouter(tags=["calendar"], responses=UNAVAILABLE)
MEDIA_TYPE = "text/calendar; charset=utf-8"
# Calendar apps poll; a few minutes of caching spares the database, and only the
# subscriber's own client may keep it. Search engines must never list an address.
FEED_HEADERS = {"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"}
FEED: Responses = {
    200: {
        "description": "The user's open todos that have a due date, as iCalendar VTODOs",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}
FeedToken = Annotated[str, Path(description="The secret part of the feed's address, as the account page shows it")]


def feed_url(request: Request, settings: Settings, token: str) -> str:
    """The feed's full address: PUBLIC_URL when set, else the address this request came to."""
    base = settings.PUBLIC_URL or str(request.base_url)
    return base.rstrip("/") + url_path(request, "calendar_feed", feed_token=token)


@router.get(
    CALENDAR_PREFIX + "{feed_token}.ics",
    name="calendar_feed",
    response_class=Response,
    responses=FEED | error_responses(404),
)
async def calendar_feed(request: Request, feed_token: FeedToken, db: DbDep) -> Response:
    """A user's open dated todos, for calendar apps (the address is the secret; no login)."""
    feed = await db.read(calendar_service.find_feed, token=feed_token)
    # Off the event loop: a feed of many todos takes a while to write.
    body = await anyio.to_thread.run_sync(calendar_service.feed_calendar, feed, request.url.hostname or "localhost")
    return Response(body, media_type=MEDIA_TYPE, headers=FEED_HEADERS)
