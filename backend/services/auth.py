"""Logging in, signing up and changing passwords.

These steps mix database work, throttling and password hashing. Hashing is CPU work of
tens of milliseconds, so it runs in a worker thread, never on the event loop.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from backend.core import security
from backend.core.config import Settings
from backend.core.errors import BadRequest, InvalidInput, NotAuthenticated, RateLimited
from backend.core.ratelimit import Throttle
from backend.core.tokens import IssuedToken, issue_token
from backend.database.session import Database
from backend.models import User
from backend.schemas.users import UserCreate
from backend.services import users as user_service

logger = logging.getLogger("backend.auth")
LOGIN_FAILED = "Incorrect username or password"
T = TypeVar("T")


@dataclass(frozen=True)
class AuthContext:
    """What the auth flows need, built once per app in create_app()."""

    db: Database
    throttle: Throttle
    settings: Settings
    # Argon2 takes ~19 MiB and one core per hash: a few threads at most, never 40.
    hash_limiter: anyio.CapacityLimiter


async def _in_thread(ctx: AuthContext, fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args, limiter=ctx.hash_limiter)


def check_password_policy(password: str, *, username: str, email: str, field: str = "password") -> None:
    """Raise InvalidInput listing every password rule broken."""
    violations = security.password_violations(password, username=username, email=email)
    if violations:
        raise InvalidInput([{"type": v.code, "loc": ["body", field], "msg": v.message} for v in violations])


async def login(ctx: AuthContext, *, username: str, password: str, client_ip: str) -> IssuedToken:
    """Check credentials under the login throttles and issue a token."""
    db, throttle, settings = ctx.db, ctx.throttle, ctx.settings
    try:
        await throttle.check_login(client_ip, username)
    except RateLimited:
        logger.warning("login throttled", extra={"event": "login_throttled", "username": username, "client": client_ip})
        raise
    creds = await db.read(user_service.find_credentials, login=username)
    ok, new_hash = await _in_thread(ctx, security.verify_password, password, creds.hashed_password if creds else None)
    if creds is None or not ok:
        await throttle.failed_login(client_ip, username)
        logger.info("login failed", extra={"event": "login_failed", "username": username, "client": client_ip})
        raise NotAuthenticated(LOGIN_FAILED, scheme="Basic")
    if new_hash:
        await db.write(user_service.set_password_hash, user_id=creds.id, hashed_password=new_hash)
    logger.info("login", extra={"event": "login", "user_id": creds.id, "client": client_ip})
    return issue_token(
        user_id=creds.id,
        version=creds.token_version,
        secret=settings.secret_key,
        minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES,
    )


async def register(ctx: AuthContext, *, data: UserCreate, client_ip: str) -> User:
    """Create an account after the password policy and the sign-up throttle."""
    db, throttle = ctx.db, ctx.throttle
    try:
        await throttle.consume(throttle.limits.register, "register", client_ip)
    except RateLimited:
        logger.warning("registration throttled", extra={"event": "register_throttled", "client": client_ip})
        raise
    check_password_policy(data.password, username=data.username, email=str(data.email))
    hashed = await _in_thread(ctx, security.hash_password, data.password)
    user = await db.write(user_service.create, data=data, hashed_password=hashed)
    logger.info("registered", extra={"event": "register", "user_id": user.id, "client": client_ip})
    return user


async def change_password(
    ctx: AuthContext, *, user_id: int, username: str, email: str, current: str, new: str, client_ip: str
) -> None:
    """Replace the password; every token issued before stops working."""
    db = ctx.db
    creds = await db.read(user_service.find_credentials, login=username)
    ok, _ = await _in_thread(ctx, security.verify_password, current, creds.hashed_password if creds else None)
    if creds is None or not ok:
        logger.info(
            "password change refused",
            extra={"event": "password_change_failed", "user_id": user_id, "client": client_ip},
        )
        raise BadRequest("Current password is incorrect")
    check_password_policy(new, username=username, email=email, field="new_password")
    hashed = await _in_thread(ctx, security.hash_password, new)
    await db.write(user_service.change_password, user_id=user_id, hashed_password=hashed)
    logger.info("password changed", extra={"event": "password_change", "user_id": user_id, "client": client_ip})
