"""`/metrics` for Prometheus: open in development, behind METRICS_TOKEN in production."""

import hmac
from datetime import timedelta

from fastapi import Request, Response
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.exc import DBAPIError

from backend.core.config import Settings
from backend.core.errors import AppError
from backend.core.state import app_state
from backend.models.base import utcnow
from backend.services import reminders


def _allowed(request: Request, settings: Settings) -> bool:
    if not settings.is_production:
        return True
    if settings.METRICS_TOKEN is None:
        return False
    scheme, presented = get_authorization_scheme_param(request.headers.get("authorization"))
    expected = settings.METRICS_TOKEN.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(expected, presented.encode("utf-8", "surrogatepass"))


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus scrape target; 404 in production without the right bearer token."""
    state = app_state(request)
    if state.metrics is None or not _allowed(request, state.settings):  # None: not mounted
        return Response('{"detail":"Not Found"}', status_code=404, media_type="application/json")
    max_late = timedelta(hours=state.settings.REMINDER_MAX_LATE_HOURS)
    try:
        age = await state.db.read(reminders.oldest_due_age, now=utcnow(), max_late=max_late)
    except (AppError, DBAPIError):  # the database is down or busy: the other metrics still go out
        pass
    else:
        state.metrics.oldest_reminder.set(age)
    return state.metrics.exposition()
