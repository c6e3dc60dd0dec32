"""Everything an app holds, built once in `create_app()` and reached through `app_state()`."""

from dataclasses import dataclass

from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection

from backend.core.config import Settings
from backend.core.metrics import Metrics
from backend.core.ratelimit import Throttle
from backend.core.route_paths import RoutePaths
from backend.core.tokens import TokenReader
from backend.core.tracing_context import Tracing
from backend.database.session import Database
from backend.jobs.background import Background
from backend.realtime.runtime import Realtime
from backend.services.auth import AuthContext


@dataclass(frozen=True, slots=True)
class AppState:
    """The app's settings and the long-lived objects built from them (one set per app)."""

    settings: Settings
    db: Database
    tokens: TokenReader
    throttle: Throttle
    auth: AuthContext
    templates: Jinja2Templates
    metrics: Metrics | None
    tracing: Tracing | None
    paths: RoutePaths
    background: Background  # mailer, job queue, embedded scheduler
    realtime: Realtime  # open sockets and the fan-out of changes to them


def app_state(conn: HTTPConnection) -> AppState:
    """The state of the app serving `conn` (a request or a WebSocket)."""
    state: AppState = conn.app.state.app  # the only untyped line: create_app() stores it
    return state
