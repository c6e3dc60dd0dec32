"""`GET /ws`: the real-time channel. Every committed change a user may see arrives here as it happens.

Browsers authenticate with the session cookie, and only from the app's own origin or one in
ALLOWED_ORIGINS (the WebSocket form of CSRF: a cookie handshake from any other page, or
with no Origin, is refused). Scripts send `Authorization: Bearer <token>`; a token in the
URL is never read (it would land in access logs). A refused handshake is answered 403
before the upgrade.
"""

from fastapi import APIRouter, WebSocket
from fastapi.security.utils import get_authorization_scheme_param

from backend.core.sessions import session_cookie_name
from backend.core.state import AppState, app_state
from backend.core.tokens import TokenClaims
from backend.dependencies import load_session
from backend.realtime.connection import POLICY_VIOLATION, Connection

router = APIRouter()


def own_origins(websocket: WebSocket, state: AppState) -> set[str]:
    """The origins whose pages may use the session cookie here."""
    scheme = "https" if websocket.url.scheme in ("wss", "https") else "http"
    origins = set(state.settings.allowed_origins)
    host = websocket.headers.get("host")
    if host:
        origins.add(f"{scheme}://{host}")
    if state.settings.PUBLIC_URL:
        origins.add(state.settings.PUBLIC_URL.rstrip("/"))
    return origins


def handshake_token(websocket: WebSocket, state: AppState) -> str | None:
    """The bearer token, or the session cookie when the page's Origin is allowed; None: refuse."""
    scheme, token = get_authorization_scheme_param(websocket.headers.get("authorization"))
    if scheme.lower() == "bearer" and token:
        return token
    cookie = websocket.cookies.get(session_cookie_name(state.settings))
    origin = websocket.headers.get("origin")
    if cookie and origin and origin.rstrip("/") in own_origins(websocket, state):
        return cookie
    return None


async def signed_in(websocket: WebSocket, state: AppState) -> TokenClaims | None:
    token = handshake_token(websocket, state)
    if token is None:
        return None
    session = await load_session(state, token)
    return None if session is None else session[0]


@router.websocket("/ws")
async def socket(websocket: WebSocket) -> None:
    """The live channel: `todo.created` / `updated` / `deleted` / `restored` events, pings, resyncs."""
    state = app_state(websocket)
    claims = await signed_in(websocket, state)
    if claims is None:
        await websocket.close(code=POLICY_VIOLATION)  # before accept: the server answers 403
        return
    await websocket.accept()
    connection = Connection(websocket, claims, ping_seconds=state.settings.WS_PING_SECONDS)
    state.realtime.hub.add(connection)
    try:
        await connection.run()
    finally:
        state.realtime.hub.remove(connection)
