"""Shared fixtures: a throwaway database per session, settings, apps, clients, accounts.

`TEST_DATABASE_URL` picks the database server (a temporary SQLite file when unset). On
PostgreSQL and MariaDB the session creates a fresh, uniquely named database, migrates it
with `alembic upgrade head` and drops it at the end. An unreachable server skips the
tests that need it, except under `CI=true`, where it fails them.

Tests are isolated by deleting every row after each test that touched the database (not
by rolling back a transaction): the concurrency tests need real commits seen by a real
server process.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, delete
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from backend.core.config import RATE_LIMIT_FIELDS, Settings
from backend.database.drivers import sync_url
from backend.database.session import SQLITE_BEGIN, build_engine
from backend.main import create_app
from backend.models import FormDraft, IdempotencyKey, RevokedToken, Schedule, Todo, User
from backend.test.factories import Account, Pages, make_account
from backend.test.mail_sink import sink  # noqa: F401 (a fixture for every test module)

REPO_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = REPO_ROOT / "alembic.ini"
TEST_SECRET = "test-secret-key-" + "x" * 40
HIGH_LIMIT = "100000/minute"
LIMIT_SETTINGS = RATE_LIMIT_FIELDS
SERVER_CONNECT_TIMEOUT = 5

SettingsFactory = Callable[..., Settings]
AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[..., TestClient]
AccountFactory = Callable[..., Account]
DatabaseFactory = Callable[[], AbstractContextManager[str]]


def server_url() -> str | None:
    """The server chosen by TEST_DATABASE_URL, or None for the default SQLite file."""
    value = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not value or make_url(value).get_backend_name() == "sqlite":
        return None
    return value


def alembic_config(url: str) -> Config:
    """alembic.ini at the repo root, pointed at `url`, leaving the test logging alone."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def _unreachable(url: str, exc: Exception) -> NoReturn:
    shown = make_url(url).render_as_string(hide_password=True)
    message = f"test database server {shown} is unreachable: {exc}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    """An empty database of our own: a new SQLite file, or CREATE/DROP DATABASE on a server."""
    server = server_url()
    if server is None:
        yield f"sqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:10]}.db'}"
        return
    url = sync_url(server)
    is_mysql = url.get_backend_name() == "mysql"
    name = f"todo_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": SERVER_CONNECT_TIMEOUT})
    try:
        with admin.connect() as conn:
            if is_mysql:
                conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            else:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except (OperationalError, InterfaceError) as exc:
        admin.dispose()
        _unreachable(server, exc)
    try:
        # The driver TEST_DATABASE_URL names (asyncpg, say): requests use it, as the app's
        # would; Alembic, jobs and the fixtures' engine use its sync twin.
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if is_mysql:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
            else:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def build_settings(database_url: str, **over: Any) -> Settings:
    """Test settings: development, a fixed key, limits out of the way, no Redis, no .env."""
    values: dict[str, Any] = {
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "ACCESS_TOKEN_EXPIRE_MINUTES": 30,
        **dict.fromkeys(LIMIT_SETTINGS, HIGH_LIMIT),
        "REDIS_URL": None,
        "FORWARDED_ALLOW_IPS": "",
        "METRICS_ENABLED": True,
        "LOG_LEVEL": "INFO",
    }
    values.update(over)
    return Settings(_env_file=None, **values)


def live_env(settings: Settings, **over: str) -> dict[str, str]:
    """The environment for a live `uvicorn backend.main:app` on the test database."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "PROMETHEUS_"))},
        "ENVIRONMENT": "development",
        "DATABASE_URL": settings.DATABASE_URL,
        "SECRET_KEY": settings.secret_key,
        "REDIS_URL": "",
        "FORWARDED_ALLOW_IPS": "",
        "LOG_LEVEL": "WARNING",
        **dict.fromkeys(LIMIT_SETTINGS, HIGH_LIMIT),
        **over,
    }
    return env


# --- database -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> DatabaseFactory:
    """Make further empty databases on the selected server (the migration test uses one)."""
    tmp_dir = tmp_path_factory.mktemp("databases")
    return lambda: fresh_database(tmp_dir)


@pytest.fixture(scope="session")
def database_url(database_factory: DatabaseFactory) -> Iterator[str]:
    """The session's database, migrated to head (which also exercises the migrations)."""
    with database_factory() as url:
        command.upgrade(alembic_config(url), "head")
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return build_settings(database_url)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine of the tests' own, for factories, assertions and clean-up."""
    engine = build_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _delete_all_rows(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the database, delete every row it left behind."""
    if "database_url" not in request.fixturenames:
        yield
        return
    engine: Engine = request.getfixturevalue("engine")
    yield
    with engine.begin() as conn:
        for model in (Todo, IdempotencyKey, RevokedToken, FormDraft, Schedule, User):
            conn.execute(delete(model))


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A plain session on the test database; services commit through it.

    On SQLite its transactions take the write lock up front, as the app's writes do, so a
    factory's insert waits (busy_timeout) for a write of the app's background threads
    instead of failing at once with "database is locked"."""
    writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) if engine.dialect.name == "sqlite" else engine
    with Session(writer, expire_on_commit=False, autoflush=False) as session:
        yield session


# --- apps and clients -----------------------------------------------------------------------


@pytest.fixture
def settings_factory(database_url: str) -> SettingsFactory:
    """Settings for the session database with some values changed."""
    return lambda **over: build_settings(database_url, **over)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def pages(app: FastAPI) -> Pages:
    """Records the pages `app` (and so `client`) renders."""
    return Pages(app)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client_factory(settings_factory: SettingsFactory) -> Iterator[ClientFactory]:
    """Started TestClients for apps built from changed settings (or a given app)."""
    with ExitStack() as stack:

        def make(
            app: FastAPI | None = None,
            *,
            client: tuple[str, int] = ("testclient", 50000),
            raise_server_exceptions: bool = True,
            **over: Any,
        ) -> TestClient:
            target = app if app is not None else create_app(settings_factory(**over))
            test_client = TestClient(target, client=client, raise_server_exceptions=raise_server_exceptions)
            return stack.enter_context(test_client)

        yield make


# --- accounts -------------------------------------------------------------------------------


@pytest.fixture
def account_factory(db_session: Session, settings: Settings) -> AccountFactory:
    """Users made through the service layer, each with a token signed like the app's."""
    return lambda **over: make_account(db_session, settings, **over)


@pytest.fixture
def user(account_factory: AccountFactory) -> Account:
    return account_factory()


@pytest.fixture
def other_user(account_factory: AccountFactory) -> Account:
    return account_factory()


@pytest.fixture
def admin(account_factory: AccountFactory) -> Account:
    return account_factory(role="admin")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread until the session ends, and any later test that starts one would fail."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
