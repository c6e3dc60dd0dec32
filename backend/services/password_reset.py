"""Password reset by email: the request (always the same answer), the link, the new password.

The request only counts against the throttles and enqueues a job: looking the address up,
signing the token and sending the mail all happen in the job, so the answer takes the same
time whether or not the address has an account. The token is single-use by construction
(see core/reset_tokens.py), and setting the new password ends every session of the account.
"""

import logging
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from backend.core import security
from backend.core.config import Settings
from backend.core.errors import BadRequest
from backend.core.reset_tokens import issue_reset_token, read_reset_token
from backend.core.tokens import InvalidToken
from backend.services import users as user_service
from backend.services.auth import AuthContext, check_new_password, hash_in_thread
from backend.services.mail import Email

logger = logging.getLogger("backend.auth")
REQUESTED = "If that address has an account, a link is on its way."
INVALID = "This reset link is invalid or has expired."


def reset_email(session: Session, *, address: str, settings: Settings, link: str) -> Email | None:
    """The mail with a reset link (`link`, the new-password page's full address, plus the
    token) for the active account at `address`; None if there is none."""
    user = user_service.find_by_email(session, address=address)
    if user is None:
        return None
    token = issue_reset_token(
        user_id=user.id,
        version=user.token_version,
        account_key=user.auth_key,
        secret=settings.secret_key,
        minutes=settings.PASSWORD_RESET_MINUTES,
    )
    link = f"{link}?{urlencode({'token': token})}"
    minutes = settings.PASSWORD_RESET_MINUTES
    text = (
        "Someone asked to reset the password of your todo account.\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n"
    )
    return Email(to=user.email, subject="Reset your password", text=text)


async def request_reset(ctx: AuthContext, *, address: str, client_ip: str) -> str:
    """Count the request (per address and per IP); the normalised address to mail."""
    address = security.normalize_login(address)
    await ctx.throttle.password_reset(client_ip, address)
    logger.info("password reset requested", extra={"event": "password_reset_request", "client": client_ip})
    return address


async def confirm(ctx: AuthContext, *, token: str, new_password: str, client_ip: str) -> None:
    """Set the new password if the token is good; BadRequest(INVALID) otherwise."""
    try:
        claims = read_reset_token(token, secret=ctx.settings.secret_key)
    except InvalidToken:
        raise BadRequest(INVALID) from None
    user = await ctx.db.read(user_service.find_active, user_id=claims.user_id)
    if user is None or user.auth_key != claims.account_key or user.token_version != claims.version:
        raise BadRequest(INVALID)
    check_new_password(user, new_password)
    hashed = await hash_in_thread(ctx, new_password)
    changed = await ctx.db.write(
        user_service.reset_password,
        user_id=claims.user_id,
        version=claims.version,
        account_key=claims.account_key,
        hashed_password=hashed,
    )
    if not changed:  # used by a request that won the race, or the password changed meanwhile
        raise BadRequest(INVALID)
    logger.info("password reset", extra={"event": "password_reset", "user_id": claims.user_id, "client": client_ip})
