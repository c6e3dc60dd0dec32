"""The browser session: its cookie, its renewal while in use, and private responses.

The session is the JWT itself, in an HttpOnly cookie. A page or API call in the second
half of the token's lifetime gets a fresh one (same session id, so CSRF tokens and
logout still apply), never past SESSION_MAX_HOURS after sign-in.
"""

import time
from http.cookies import SimpleCookie

from fastapi import Request, Response
from starlette.types import Scope

from backend.core.config import Settings
from backend.core.middleware import RawHeaders
from backend.core.tokens import TokenClaims, issue_token, lifetime_left

RENEW_WHEN_LEFT = 0.5  # of a full token lifetime


def session_cookie_name(settings: Settings) -> str:
    """`__Host-` prefix in production: Secure, Path=/ and no Domain are then enforced."""
    return "__Host-session" if settings.is_production else "session"


def session_end(settings: Settings, session_start: int) -> int:
    """The absolute end of a session (epoch seconds), however often it is renewed."""
    return session_start + settings.SESSION_MAX_HOURS * 3600


def set_session_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    """The session is the JWT itself, in a cookie scripts cannot read."""
    response.headers.append("set-cookie", _cookie_header(settings, token, max_age))


def _cookie_header(settings: Settings, token: str, max_age: int) -> str:
    cookie: SimpleCookie = SimpleCookie()
    name = session_cookie_name(settings)
    cookie[name] = token
    morsel = cookie[name]
    morsel["max-age"] = max_age
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "lax"
    if settings.is_production:
        morsel["secure"] = True
    return morsel.OutputString()


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Remove the session cookie (same attributes, so the browser matches it)."""
    response.headers.append("set-cookie", _cookie_header(settings, "", 0))


def renew_session_if_due(request: Request, settings: Settings, claims: TokenClaims) -> None:
    """In the second half of its lifetime, have the response carry a renewed session cookie."""
    minutes = settings.ACCESS_TOKEN_EXPIRE_MINUTES
    if lifetime_left(claims, minutes) >= RENEW_WHEN_LEFT:
        return
    end = session_end(settings, claims.session_start)
    if end <= claims.expires_at.timestamp() or end <= time.time():
        return  # already as long as the session may last
    issued = issue_token(
        user_id=claims.user_id,
        version=claims.version,
        account_key=claims.account_key,
        secret=settings.secret_key,
        minutes=minutes,
        jti=claims.jti,
        session_start=claims.session_start,
        not_after=end,
    )
    request.state.renewed_session = _cookie_header(settings, issued.token, issued.expires_in).encode("latin-1")


class PrivateResponses:
    """Answers that depend on who asked are `no-store`; renewed session cookies go out.

    Routes mark the request (`request.state.private`, `.renewed_session`) while resolving
    the principal; this adds the headers when the response starts, unless the response
    sets the session cookie itself (login, logout). A step of RequestContextMiddleware's
    (`HeaderStep`), not a middleware of its own: each ASGI layer costs every request.
    """

    def __init__(self, settings: Settings) -> None:
        self.cookie_prefix = (session_cookie_name(settings) + "=").encode("latin-1")

    def __call__(self, scope: Scope, headers: RawHeaders) -> RawHeaders:
        state = scope.get("state")
        if not (state and state.get("private")):
            return headers
        if not any(name == b"cache-control" for name, _ in headers):
            headers.append((b"cache-control", b"no-store"))
        renewed = state.get("renewed_session")
        if renewed and not any(
            name == b"set-cookie" and value.startswith(self.cookie_prefix) for name, value in headers
        ):
            headers.append((b"set-cookie", renewed))
        return headers
