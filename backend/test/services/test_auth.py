"""services.auth: login, sign-up and password change flows, hashing off the event loop."""

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio
import bcrypt
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.core import security
from backend.core.config import Settings
from backend.core.errors import BadRequest, InvalidInput, NotAuthenticated, RateLimited
from backend.core.ratelimit import Throttle
from backend.core.tokens import read_token
from backend.database.session import Database, build_engine
from backend.models import User
from backend.schemas.users import UserCreate
from backend.services import auth as auth_service
from backend.services.auth import AuthContext
from backend.test.conftest import SettingsFactory
from backend.test.factories import DEFAULT_PASSWORD, make_user, on_new_loop, principal_of, state_of, user_payload

T = TypeVar("T")
ContextFactory = Callable[..., AuthContext]


def run(ctx: AuthContext, fn: Callable[[], Awaitable[T]]) -> T:
    return on_new_loop(ctx.db, fn)


@pytest.fixture
def context_factory(settings_factory: SettingsFactory) -> Iterator[ContextFactory]:
    """AuthContexts as create_app builds them, for settings with some values changed."""
    databases: list[Database] = []

    def make(**over: Any) -> AuthContext:
        settings = settings_factory(**over)
        db = Database(build_engine(settings), settings)
        databases.append(db)
        return AuthContext(db, Throttle(settings), settings, anyio.CapacityLimiter(2))

    yield make
    for db in databases:
        db.dispose()


@pytest.fixture
def ctx(context_factory: ContextFactory) -> AuthContext:
    return context_factory()


class TestLogin:
    def test_issues_a_token_for_the_user(self, ctx: AuthContext, db_session: Session, settings: Settings) -> None:
        user = make_user(db_session)

        issued = run(
            ctx, lambda: auth_service.login(ctx, username=user.username, password=DEFAULT_PASSWORD, client_ip="ip")
        )

        claims = read_token(issued.token, secret=settings.secret_key)
        assert claims.user_id == user.id
        assert claims.version == 0
        assert issued.expires_in == settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60

    def test_wrong_password_is_not_authenticated_with_a_basic_challenge(
        self, ctx: AuthContext, db_session: Session
    ) -> None:
        user = make_user(db_session)

        with pytest.raises(NotAuthenticated) as caught:
            run(ctx, lambda: auth_service.login(ctx, username=user.username, password="wrong-one-1", client_ip="ip"))

        assert caught.value.headers == {"WWW-Authenticate": "Basic"}

    def test_unknown_username_still_pays_for_one_hash(self, ctx: AuthContext, monkeypatch: pytest.MonkeyPatch) -> None:
        seen: list[str | None] = []
        real_verify = security.verify_password

        def spy(password: str, hashed: str | None) -> tuple[bool, str | None]:
            seen.append(hashed)
            return real_verify(password, hashed)

        monkeypatch.setattr(security, "verify_password", spy)

        with pytest.raises(NotAuthenticated):
            run(ctx, lambda: auth_service.login(ctx, username="nobody", password="whatever-1", client_ip="ip"))

        assert seen == [None]

    def test_failures_count_and_then_throttle(self, context_factory: ContextFactory, db_session: Session) -> None:
        ctx = context_factory(RATE_LIMIT_LOGIN="2/minute")
        user = make_user(db_session)

        async def attempts() -> list[str]:
            outcomes = []
            for password in ("bad-password-1", "bad-password-2", DEFAULT_PASSWORD):
                try:
                    await auth_service.login(ctx, username=user.username, password=password, client_ip="ip")
                    outcomes.append("ok")
                except NotAuthenticated:
                    outcomes.append("401")
                except RateLimited:
                    outcomes.append("429")
            return outcomes

        assert run(ctx, attempts) == ["401", "401", "429"]

    def test_hashing_runs_off_the_event_loop_thread(
        self, ctx: AuthContext, db_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        user = make_user(db_session)
        threads: list[int] = []
        real_verify = security.verify_password

        def spy(password: str, hashed: str | None) -> tuple[bool, str | None]:
            threads.append(threading.get_ident())
            return real_verify(password, hashed)

        monkeypatch.setattr(security, "verify_password", spy)

        async def login() -> int:
            await auth_service.login(ctx, username=user.username, password=DEFAULT_PASSWORD, client_ip="ip")
            return threading.get_ident()

        loop_thread = run(ctx, login)

        assert threads
        assert loop_thread not in threads

    def test_a_legacy_bcrypt_hash_is_checked_whole_and_upgraded(self, ctx: AuthContext, db_session: Session) -> None:
        password = "legacy-Password-" * 6  # 96 bytes: bcrypt only ever saw the first 72
        user = make_user(db_session)
        legacy = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
        db_session.execute(update(User).where(User.id == user.id).values(hashed_password=legacy))
        db_session.commit()

        run(ctx, lambda: auth_service.login(ctx, username=user.username, password=password, client_ip="ip"))

        db_session.expire_all()
        stored = db_session.execute(select(User.hashed_password).where(User.id == user.id)).scalar_one()
        assert stored.startswith("$argon2id$")
        assert security.verify_password(password, stored)[0]
        assert not security.verify_password(password[:72], stored)[0]


class TestRegister:
    def test_creates_a_user_with_an_argon2_hash(self, ctx: AuthContext) -> None:
        data = UserCreate.model_validate(user_payload())

        user = run(ctx, lambda: auth_service.register(ctx, data=data, client_ip="ip"))

        assert user.role == "user"
        assert user.hashed_password.startswith("$argon2id$")
        assert security.verify_password(DEFAULT_PASSWORD, user.hashed_password)[0]

    def test_policy_violations_are_invalid_input_listing_each_rule(self, ctx: AuthContext) -> None:
        data = UserCreate.model_validate(user_payload(password="12345"))

        with pytest.raises(InvalidInput) as caught:
            run(ctx, lambda: auth_service.register(ctx, data=data, client_ip="ip"))

        codes = {error["type"] for error in caught.value.errors}
        assert {"password_length", "password_too_common", "password_entirely_numeric"} <= codes
        assert all(error["loc"] == ["body", "password"] for error in caught.value.errors)

    def test_throttled_per_client(self, context_factory: ContextFactory) -> None:
        ctx = context_factory(RATE_LIMIT_REGISTER="1/hour")

        async def twice() -> None:
            await auth_service.count_signup(ctx, client_ip="ip")
            await auth_service.count_signup(ctx, client_ip="ip")

        with pytest.raises(RateLimited):
            run(ctx, twice)


class TestChangePassword:
    def test_wrong_current_password_is_bad_request(self, ctx: AuthContext, db_session: Session) -> None:
        user = make_user(db_session)

        with pytest.raises(BadRequest):
            run(
                ctx,
                lambda: auth_service.change_password(
                    ctx,
                    principal=principal_of(db_session, user.id),
                    current="not-it-at-all",
                    new="fresh-Meadow-violin-58",
                    client_ip="ip",
                ),
            )

    def test_policy_errors_point_at_new_password(self, ctx: AuthContext, db_session: Session) -> None:
        user = make_user(db_session)

        with pytest.raises(InvalidInput) as caught:
            run(
                ctx,
                lambda: auth_service.change_password(
                    ctx,
                    principal=principal_of(db_session, user.id),
                    current=DEFAULT_PASSWORD,
                    new="password1",
                    client_ip="ip",
                ),
            )

        assert {tuple(error["loc"]) for error in caught.value.errors} == {("body", "new_password")}

    def test_success_bumps_the_token_version(self, ctx: AuthContext, db_session: Session) -> None:
        user = make_user(db_session)

        run(
            ctx,
            lambda: auth_service.change_password(
                ctx,
                principal=principal_of(db_session, user.id),
                current=DEFAULT_PASSWORD,
                new="fresh-Meadow-violin-58",
                client_ip="ip",
            ),
        )

        db_session.expire_all()
        stored = db_session.execute(select(User.token_version, User.hashed_password).where(User.id == user.id)).one()
        assert stored.token_version == 1
        assert security.verify_password("fresh-Meadow-violin-58", stored.hashed_password)[0]


class TestHashingThreads:
    def test_the_app_hashes_one_password_at_a_time(self, app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
        # Each hash holds Argon2id's 19 MiB while it runs: two at once took a worker past
        # 150 MB during a burst of sign-ups (docs/performance.md, "Peak memory").
        ctx = state_of(app).auth
        running, most = 0, 0
        lock = threading.Lock()

        def slow_hash(password: str) -> str:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)  # long enough for a second thread, were one allowed, to start
            with lock:
                running -= 1
            return password

        monkeypatch.setattr(security, "hash_password", slow_hash)

        async def three_at_once() -> list[str]:
            results: list[str] = []

            async def one(n: int) -> None:
                results.append(await auth_service.hash_in_thread(ctx, f"password {n}"))

            async with anyio.create_task_group() as group:
                for n in range(3):
                    group.start_soon(one, n)
            return results

        assert sorted(run(ctx, three_at_once)) == ["password 0", "password 1", "password 2"]
        assert most == 1
