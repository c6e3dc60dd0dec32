"""Plain typed factories: request payloads, users, todos, accounts and hand-made tokens."""

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

import anyio
import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from backend.core import security
from backend.core.config import Settings
from backend.core.state import AppState, app_state
from backend.core.tokens import TokenClaims, issue_token
from backend.database.session import Database
from backend.jobs.schedules import EMBEDDED_THREAD
from backend.models import ROLE_USER, Todo, TodoList, User
from backend.schemas.todos import TodoCreate
from backend.schemas.users import UserCreate
from backend.services import counts
from backend.services import todos as todo_service
from backend.services import users as user_service
from backend.services.principal import PRINCIPAL_COLUMNS, Principal, principal_row
from backend.services.todos import TodoRow

T = TypeVar("T")

DEFAULT_PASSWORD = "quiet-Harbor-lantern-73"
ACCOUNT_KEY = "0" * 32  # a well-formed account key that no account has
_sequence = itertools.count(1)


def unique_name(prefix: str = "user") -> str:
    """A fresh username (letters and digits only, well under 32 characters)."""
    return f"{prefix}{next(_sequence)}x{uuid.uuid4().hex[:6]}"


def user_payload(**over: Any) -> dict[str, Any]:
    """A valid `POST /user/register` body."""
    username = over.pop("username") if "username" in over else unique_name()
    payload: dict[str, Any] = {
        "username": username,
        "email": f"{username}@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "password": DEFAULT_PASSWORD,
    }
    payload.update(over)
    return payload


def todo_payload(**over: Any) -> dict[str, Any]:
    """A valid `POST /todos/todos` body."""
    payload: dict[str, Any] = {"title": f"Todo {next(_sequence)}", "description": "", "priority": 3}
    payload.update(over)
    return payload


@cache
def default_password_hash() -> str:
    """Hash DEFAULT_PASSWORD once per session: Argon2 is deliberately slow."""
    return security.hash_password(DEFAULT_PASSWORD)


def make_user(
    session: Session, *, role: str = ROLE_USER, password: str = DEFAULT_PASSWORD, is_active: bool = True, **over: Any
) -> User:
    """A user created by the service layer (admins too: there is no other way to make one)."""
    data = UserCreate.model_validate(user_payload(password=password, **over))
    hashed = default_password_hash() if password == DEFAULT_PASSWORD else security.hash_password(password)
    user = user_service.create(session, data=data, hashed_password=hashed, role=role)
    if not is_active:
        set_active(session, user.id, active=False)
    return user


def inbox_of(session: Session, user_id: int) -> int:
    """The id of the user's Inbox list."""
    inbox: int = session.execute(
        select(TodoList.id).where(TodoList.owner_id == user_id, TodoList.is_inbox.is_(True))
    ).scalar_one()
    session.commit()  # end the read: SQLite writers wait for open readers
    return inbox


def set_active(session: Session, user_id: int, *, active: bool) -> None:
    session.execute(update(User).where(User.id == user_id).values(is_active=active))
    session.commit()


def principal_of(session: Session, user_id: int) -> Principal:
    """The user as a freshly signed-in request would act for them (a new session)."""
    row = session.execute(select(*PRINCIPAL_COLUMNS, User.token_version, User.auth_key).where(User.id == user_id)).one()
    session.commit()  # end the read, so later reads in this session see later writes
    claims = token_claims(row.id, version=row.token_version, account_key=row.auth_key)
    return Principal(*principal_row(row), token=claims)


def token_claims(user_id: int, *, version: int = 0, account_key: str, jti: str | None = None) -> TokenClaims:
    """What a freshly issued 30-minute token for the user would carry."""
    now = time.time()
    return TokenClaims(
        user_id=user_id,
        jti=jti or str(uuid.uuid4()),
        version=version,
        account_key=account_key,
        issued_at=now,
        expires_at=datetime.fromtimestamp(now + 1800, UTC),
        session_start=int(now),
    )


def make_todo(session: Session, owner_id: int, **over: Any) -> TodoRow:
    """A todo created by the service layer (keeps the owner's counter in step)."""
    data = TodoCreate.model_validate(todo_payload(**over))
    return todo_service.create(session, principal=principal_of(session, owner_id), data=data)


def counted_todos(session: Session, user_id: int) -> int:
    """The user's kept todo count (the sum of their count rows), read fresh from the database."""
    session.expire_all()
    return int(session.execute(counts.KEPT_TOTAL, {"uid": user_id}).scalar_one())


def count_todos(session: Session, owner_id: int | None = None) -> int:
    """Todos not in the trash (of one owner), read fresh from the database."""
    live = select(Todo.id).where(Todo.deleted_at.is_(None))
    stmt = live if owner_id is None else live.where(Todo.owner_id == owner_id)
    session.expire_all()
    return len(session.execute(stmt).all())


def user_exists(session: Session, user_id: int) -> bool:
    session.expire_all()
    found = session.execute(select(User.id).where(User.id == user_id)).first() is not None
    session.commit()  # end the read: SQLite writers wait for open readers
    return found


# --- accounts and tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A user that exists in the database, with a valid bearer token."""

    id: int
    username: str
    email: str
    password: str
    token: str
    role: str = "user"
    auth_key: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mint_token(settings: Settings, user: User | int, *, version: int = 0, minutes: int | None = None) -> str:
    """A token exactly as the app issues it at login (for a bare id: a made-up account key)."""
    return issue_token(
        user_id=user if isinstance(user, int) else user.id,
        version=version,
        account_key=ACCOUNT_KEY if isinstance(user, int) else user.auth_key,
        secret=settings.secret_key,
        minutes=minutes or settings.ACCESS_TOKEN_EXPIRE_MINUTES,
    ).token


def make_account(
    session: Session, settings: Settings, *, role: str = "user", password: str = DEFAULT_PASSWORD, **over: Any
) -> Account:
    user = make_user(session, role=role, password=password, **over)
    return Account(
        id=user.id,
        username=user.username,
        email=user.email,
        password=password,
        token=mint_token(settings, user),
        role=role,
        auth_key=user.auth_key,
    )


def register(client: TestClient, **over: Any) -> dict[str, Any]:
    """Sign up through the API; returns the created user."""
    response = client.post("/user/register", json=user_payload(**over))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def login(client: TestClient, username: str, password: str = DEFAULT_PASSWORD) -> str:
    """`GET /login` with HTTP Basic; returns the bearer token."""
    response = client.get("/login", auth=(username, password))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def use_session(client: TestClient | httpx.Client, settings: Settings, account: Account) -> str:
    """Act as a browser: the account's token as the `session` cookie. Returns its CSRF token."""
    client.cookies.set("session", account.token)
    return security.csrf_token(settings.secret_key, jwt_claims(account.token)["jti"])


class Pages:
    """What an app renders: template name, context and status of each page.

    Starlette's TestClient would expose `response.template`, but GZipMiddleware drops the
    `http.response.debug` message that carries it, so the app's templates are wrapped.
    """

    def __init__(self, app: FastAPI) -> None:
        self.rendered: list[tuple[str, dict[str, Any], int]] = []
        templates = state_of(app).templates
        original = templates.TemplateResponse

        def record(request: Any, name: str, context: dict[str, Any] | None = None, *args: Any, **kw: Any) -> Any:
            response = original(request, name, context, *args, **kw)
            self.rendered.append((name, dict(context or {}), response.status_code))
            return response

        templates.TemplateResponse = record  # type: ignore[method-assign]  # this app's renderer only

    def of(self, response: Any) -> tuple[str, dict[str, Any]]:
        """Template name and context of the page that produced `response`."""
        assert self.rendered, f"no page rendered: {response.status_code} {response.text[:200]}"
        name, context, status = self.rendered[-1]
        assert status == response.status_code
        return name, context


def state_of(app: FastAPI) -> AppState:
    """What `create_app` built for `app`, through the accessor requests use."""
    return app_state(HTTPConnection({"type": "http", "app": app}))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(
    user_id: int, *, version: int = 0, minutes: int = 30, account_key: str = ACCOUNT_KEY, **over: Any
) -> dict[str, Any]:
    """The claims the app puts in a token; `over` replaces some (None removes one)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": str(uuid.uuid4()),
        "ver": version,
        "acc": account_key,
        "sst": int(now.timestamp()),
    }
    for key, value in over.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


def craft_token(claims: dict[str, Any], secret: str, *, alg: str = "HS256", digest: str = "sha256") -> str:
    """A JWT signed by hand: any `alg` header, HMAC with `digest`, or unsigned for `none`."""
    header = {"alg": alg, "typ": "JWT"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    if alg.lower() == "none":
        return f"{signing_input}."
    signature = hmac.new(secret.encode(), signing_input.encode(), getattr(hashlib, digest)).digest()
    return f"{signing_input}.{b64url(signature)}"


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (for reading the jti the app chose)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def on_request_path() -> bool:
    """False on the app's embedded scheduler thread, whose ticks (a query a second) are not
    part of any request: statement counts skip them."""
    return threading.current_thread().name != EMBEDDED_THREAD


def on_new_loop(db: Database, fn: Callable[[], Awaitable[T]]) -> T:
    """Run `fn` on an event loop of its own, then close the connections `db` opened on it
    (an async driver's connection belongs to the loop that made it)."""

    async def main() -> T:
        try:
            return await fn()
        finally:
            if db.server is not None:
                await db.server.dispose()

    return anyio.run(main)
