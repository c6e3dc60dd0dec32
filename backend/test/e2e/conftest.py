"""End-to-end fixtures: the real app under uvicorn on a free loopback port (started and
polled by backend.test.live), a fresh SQLite database migrated by Alembic, and Debian's
Chromium driven by pytest-playwright.

Users are created through the JSON API (fast); each browser session logs in once through
the login form and its storage state is reused by every test that only reads.
"""

from __future__ import annotations

import itertools
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, ViewportSize

from backend.test.live import LiveServer

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = REPO / "screenshots"
SESSION_COOKIE = "session"  # ENVIRONMENT=development: no __Host- prefix, no Secure
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
STARTUP_TIMEOUT = 30.0
_E2E_DIR = Path(__file__).resolve().parent
_serial = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end tests in a real browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# --- the server --------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    database: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        """A raw HTTP client (no browser): redirects are not followed."""
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=10.0, **kwargs)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("e2e-server")
    database = workdir / "e2e.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": secrets.token_urlsafe(30)[:40].ljust(40, "x"),
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        # One client address registers and logs in every test user: lift those throttles.
        "RATE_LIMIT_REGISTER": "10000/hour",
        "RATE_LIMIT_LOGIN_IP": "10000/5 minutes",
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=REPO, env=env, check=True, capture_output=True
    )
    live = LiveServer.uvicorn(env=env, log_path=workdir / "uvicorn.log", startup_timeout=STARTUP_TIMEOUT)
    with live:
        yield Server(url=live.url, env=env, database=database)
    crashes = [line for line in live.output().splitlines() if '"unhandled error"' in line]
    assert crashes == [], f"the server hit unhandled errors (full log: {live.log_path}):\n" + "\n".join(crashes)


# --- pytest-playwright configuration ---------------------------------------------------------


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    return server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {**browser_context_args, "base_url": base_url}


# --- users ----------------------------------------------------------------------------------


@dataclass
class User:
    username: str
    password: str
    email: str
    first_name: str = "Ada"
    last_name: str = "Lovelace"
    state: Path | None = field(default=None, repr=False)


def new_user(prefix: str = "user") -> User:
    """Unique, valid sign-up data (the password passes the policy)."""
    name = f"{prefix}{next(_serial)}{secrets.token_hex(2)}"
    return User(username=name, password=f"quiet-harbor-{secrets.token_hex(4)}-lantern", email=f"{name}@example.com")


def api_register(server: Server, user: User) -> None:
    body = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "password": user.password,
    }
    with server.client() as client:
        response = client.post("/user/register", json=body)
    assert response.status_code == 201, response.text


def api_token(server: Server, user: User) -> str:
    with server.client() as client:
        response = client.post("/auth/token", data={"username": user.username, "password": user.password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def api_add_todo(server: Server, token: str, **todo: Any) -> dict[str, Any]:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.post("/todos/todos", json=todo)
    assert response.status_code == 201, response.text
    return dict(response.json())


def promote(server: Server, username: str) -> None:
    """Make a user an admin: the management command if there is one, else SQL."""
    if (REPO / "backend" / "manage.py").exists():
        subprocess.run(
            [sys.executable, "-m", "backend.manage", "promote", username],
            cwd=REPO,
            env=server.env,
            check=True,
            capture_output=True,
        )
        return
    with sqlite3.connect(server.database) as db:
        changed = db.execute("UPDATE users SET role = 'admin' WHERE username_key = ?", (username.lower(),)).rowcount
    assert changed == 1


def form_login(context: BrowserContext, user: User) -> None:
    """Log a browser context in through the login form's POST (shares the context's cookies)."""
    response = context.request.post(
        "/login-page", form={"username": user.username, "password": user.password}, max_redirects=0
    )
    assert response.status == 303, response.text()


def days_from_today(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


# --- browser sessions --------------------------------------------------------------------------


def _stored_session(browser: Browser, base_url: str, user: User, path: Path) -> User:
    """Log in once through the real form and keep the cookies for reuse."""
    context = browser.new_context(base_url=base_url, viewport=DESKTOP)
    page = context.new_page()
    page.goto("/login-page")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/todo-page")
    context.storage_state(path=path)
    context.close()
    user.state = path
    return user


@pytest.fixture(scope="session")
def reader(server: Server, browser: Browser, base_url: str, tmp_path_factory: pytest.TempPathFactory) -> User:
    """A user with a few todos whose session is shared by tests that do not change data."""
    user = new_user("reader")
    api_register(server, user)
    token = api_token(server, user)
    api_add_todo(
        server,
        token,
        title="Renew passport",
        priority=4,
        due_date=days_from_today(-3),
        description="Photos first.\nThen the form at the post office.",
    )
    api_add_todo(server, token, title="Water the plants", priority=2, complete=True)
    api_add_todo(
        server,
        token,
        title="Plan the team offsite for the second half of the year, with budget",
        priority=5,
        due_date=days_from_today(12),
    )
    api_add_todo(server, token, title="Book dentist", priority=3, due_date=days_from_today(0))
    return _stored_session(browser, base_url, user, tmp_path_factory.mktemp("state") / "reader.json")


@pytest.fixture(scope="session")
def admin(server: Server, browser: Browser, base_url: str, tmp_path_factory: pytest.TempPathFactory) -> User:
    """An admin (promoted after sign-up), logged in once."""
    user = new_user("admin")
    api_register(server, user)
    promote(server, user.username)
    return _stored_session(browser, base_url, user, tmp_path_factory.mktemp("state") / "admin.json")


class ConsoleWatch:
    """JavaScript errors and console errors (CSP violations land there) seen by pages."""

    IGNORED = ("Failed to load resource",)  # an expected 4xx answer, reported by the browser

    def __init__(self) -> None:
        self.problems: list[str] = []

    def attach(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", self._page_error)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not message.text.startswith(self.IGNORED):
            self.problems.append(f"console {message.type}: {message.text}")

    def _page_error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")


@pytest.fixture
def console() -> Iterator[ConsoleWatch]:
    watch = ConsoleWatch()
    yield watch
    assert watch.problems == [], "the browser reported problems"


SessionFactory = Callable[..., Page]


@pytest.fixture
def open_page(new_context: Callable[..., BrowserContext], console: ConsoleWatch) -> SessionFactory:
    """`open_page(user=None, js=True, width=1280)`: a fresh page, logged in as `user` if given."""

    def _open(user: User | None = None, *, js: bool = True, width: int = DESKTOP["width"]) -> Page:
        options: dict[str, Any] = {"java_script_enabled": js, "viewport": {"width": width, "height": 800}}
        if user is not None and user.state is not None:
            options["storage_state"] = user.state
        context = new_context(**options)
        if user is not None and user.state is None:
            form_login(context, user)
        return console.attach(context.new_page())

    return _open


@pytest.fixture
def reader_page(open_page: SessionFactory, reader: User) -> Page:
    return open_page(reader)


@pytest.fixture
def fresh_user(server: Server) -> User:
    """A new user with no todos, registered through the API, not logged in anywhere."""
    user = new_user()
    api_register(server, user)
    return user


@pytest.fixture
def fresh_page(open_page: SessionFactory, fresh_user: User) -> Page:
    """A page logged in (through the login form's POST) as a brand-new user."""
    return open_page(fresh_user)
