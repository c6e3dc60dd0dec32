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
from backend.database.request_scope import release as release_connection
from backend.database.session import Database
from backend.models import User
from backend.schemas.users import UserCreate
from backend.services import users as user_service
from backend.services.principal import Principal

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
    await release_connection()  # waiting for a hashing thread must not hold a pooled connection
    return await anyio.to_thread.run_sync(fn, *args, limiter=ctx.hash_limiter)


async def hash_in_thread(ctx: AuthContext, password: str) -> str:
    """The password's Argon2id hash, computed on one of the few hashing threads."""
    return await _in_thread(ctx, security.hash_password, password)


def check_password_policy(
    password: str, *, username: str, email: str, first_name: str = "", last_name: str = "", field: str = "password"
) -> None:
    """Raise InvalidInput listing every password rule broken."""
    violations = security.password_violations(
        password, username=username, email=email, first_name=first_name, last_name=last_name
    )
    if violations:
        raise InvalidInput([{"type": v.code, "loc": ["body", field], "msg": v.message} for v in violations])


def check_new_password(user: User, password: str) -> None:
    """The policy for an existing account's new password (InvalidInput on `new_password`)."""
    check_password_policy(
        password,
        username=user.username,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        field="new_password",
    )


def check_signup_password(data: UserCreate) -> None:
    """The password policy for a sign-up, against its own username, email and names."""
    check_password_policy(
        data.password,
        username=data.username,
        email=str(data.email),
        first_name=data.first_name,
        last_name=data.last_name,
    )


def _log_throttled(event: str, **extra: object) -> None:
    logger.warning(event.replace("_", " "), extra={"event": event, **extra})


async def login(ctx: AuthContext, *, username: str, password: str, client_ip: str) -> IssuedToken:
    """Count the attempt, then check credentials and issue a token.

    The attempt is counted before the password is checked, against the account the
    name resolves to (by username or email, however it is spelt), so neither parallel
    guesses nor spelling variants get more tries than the limits allow.
    """
    db, throttle, settings = ctx.db, ctx.throttle, ctx.settings
    login_key = security.normalize_login(username)
    creds = await db.read(user_service.find_credentials, login=login_key)
    account = f"id:{creds.id}" if creds else f"name:{login_key}"
    try:
        await throttle.login_attempt(client_ip, account)
    except RateLimited:
        _log_throttled("login_throttled", user_id=creds.id if creds else None, client=client_ip)
        raise
    ok, new_hash = await _in_thread(ctx, security.verify_password, password, creds.hashed_password if creds else None)
    if creds is None or not ok:
        logger.info("login failed", extra={"event": "login_failed", "client": client_ip})
        raise NotAuthenticated(LOGIN_FAILED, scheme="Basic")
    if new_hash:
        await db.write(user_service.set_password_hash, user_id=creds.id, hashed_password=new_hash)
    logger.info("login", extra={"event": "login", "user_id": creds.id, "client": client_ip})
    return issue_token(
        user_id=creds.id,
        version=creds.token_version,
        account_key=creds.auth_key,
        secret=settings.secret_key,
        minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES,
    )


async def count_signup(ctx: AuthContext, *, client_ip: str) -> None:
    """Count a sign-up attempt (valid or not) against the sign-up limit."""
    try:
        await ctx.throttle.register_attempt(client_ip)
    except RateLimited:
        _log_throttled("register_throttled", client=client_ip)
        raise


async def register(ctx: AuthContext, *, data: UserCreate, client_ip: str) -> User:
    """Create an account after the password policy (the attempt is already counted)."""
    check_signup_password(data)
    hashed = await hash_in_thread(ctx, data.password)
    user = await ctx.db.write(user_service.create, data=data, hashed_password=hashed)
    logger.info("registered", extra={"event": "register", "user_id": user.id, "client": client_ip})
    return user


async def confirm_password(
    ctx: AuthContext, *, principal: Principal, password: str, client_ip: str, action: str
) -> User:
    """The principal's user row once `password` is theirs (BadRequest otherwise).

    Throttled per user (RATE_LIMIT_PASSWORD_CHECK), counted before the check."""
    try:
        await ctx.throttle.password_check(principal.id)
    except RateLimited:
        _log_throttled("password_check_throttled", user_id=principal.id, client=client_ip)
        raise
    user = await ctx.db.read(user_service.get_by_id, user_id=principal.id)
    ok, _ = await _in_thread(ctx, security.verify_password, password, user.hashed_password)
    if not ok:
        logger.info(
            f"{action} refused",
            extra={"event": "password_check_failed", "user_id": principal.id, "client": client_ip},
        )
        raise BadRequest("Current password is incorrect")
    return user


async def change_password(ctx: AuthContext, *, principal: Principal, current: str, new: str, client_ip: str) -> None:
    """Replace the password; every token issued before stops working.

    Checking the current password is throttled per user, counted before the check.
    """
    db = ctx.db
    user = await confirm_password(
        ctx, principal=principal, password=current, client_ip=client_ip, action="password change"
    )
    check_new_password(user, new)
    hashed = await hash_in_thread(ctx, new)
    await db.write(user_service.change_password, principal=principal, hashed_password=hashed)
    logger.info("password changed", extra={"event": "password_change", "user_id": principal.id, "client": client_ip})
