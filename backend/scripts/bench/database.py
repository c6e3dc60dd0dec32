"""The benchmark's own database (a temp SQLite file, or a new database on the --db server),
its migration, and the environment the app is started with."""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from backend.core.config import Settings
from backend.database.drivers import sync_url
from backend.scripts.bench.common import HIGH_RATE, LOOPBACK_HOSTS, PYTHON, REPO, SetupError, log

# What the app must not pick up from a developer's shell: tracing is off in every row
# (a tracing row would set it on its own ServerSpec), and so is Redis.
UNSET = ["OTEL_EXPORTER_OTLP_ENDPOINT", "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY"]
SERVER_PROCESS_NAMES = {"postgresql": ("postgres",), "mariadb": ("mariadbd", "mysqld")}


@dataclass
class FreshDatabase:
    """A database of our own: a temp SQLite file, or a new database on the --db server."""

    url: str
    label: str  # sqlite, postgresql or mariadb
    display: str
    admin_url: str | None = None
    name: str | None = None
    given_url: str | None = None  # the --db URL, password hidden

    @property
    def server_process_names(self) -> tuple[str, ...]:
        return SERVER_PROCESS_NAMES.get(self.label, ())

    def drop(self) -> None:
        if not self.admin_url or not self.name:
            return
        engine = create_engine(sync_url(self.admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    try:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                    except SQLAlchemyError:  # PostgreSQL < 13 has no FORCE
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
                else:
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{self.name}`"))
            log(f"dropped database {self.name}")
        finally:
            engine.dispose()


def _server_url(db_url: str) -> URL:
    try:
        url = make_url(db_url)
    except ArgumentError as exc:
        raise SetupError(f"--db: not a database URL: {exc}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        raise SetupError("--db: leave it out for SQLite (a temp file is used)")
    if backend not in ("postgresql", "mysql", "mariadb"):
        raise SetupError(f"--db: PostgreSQL or MariaDB URL expected, got {backend}")
    if url.host not in LOOPBACK_HOSTS:
        raise SetupError(f"--db: the benchmark runs on 127.0.0.1 only; refusing host {url.host!r}")
    return url


def fresh_database(db_url: str | None, tmpdir: Path) -> FreshDatabase:
    if not db_url:
        path = tmpdir / "bench.db"
        return FreshDatabase(url=f"sqlite:///{path}", label="sqlite", display=f"SQLite (temp file {path})")
    url = _server_url(db_url)
    is_postgres = url.get_backend_name() == "postgresql"
    name = f"bench_{datetime.now().strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    engine = create_engine(sync_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if is_postgres:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
            version = conn.dialect.server_version_info
    except SQLAlchemyError as exc:
        shown = url.render_as_string(hide_password=True)
        raise SetupError(f"--db: could not create a database on {shown}: {exc}") from None
    finally:
        engine.dispose()
    new_url = url.set(database=name)
    label = "postgresql" if is_postgres else "mariadb"
    server = ".".join(map(str, version or ())) or "?"
    log(f"created database {name} on {url.host}:{url.port or ''}")
    return FreshDatabase(
        url=new_url.render_as_string(hide_password=False),
        label=label,
        display=f"{label} {server} ({new_url.render_as_string(hide_password=True)})",
        admin_url=url.render_as_string(hide_password=False),
        name=name,
        given_url=url.render_as_string(hide_password=True),
    )


def analyze(db: FreshDatabase) -> str | None:
    """Refresh the planner statistics of our own database after seeding (PostgreSQL / MariaDB).

    A production server's autovacuum (or InnoDB's automatic statistics) does this shortly
    after a table grows; a freshly seeded table without it can get a plan that reads every
    row of the 10,000-todo user. Returns a note on what the server would have done alone.
    """
    if not db.admin_url:
        return None
    engine = create_engine(sync_url(db.url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()
                conn.execute(text("ANALYZE"))
                return f"ANALYZE run after seeding (this server has autovacuum={autovacuum})"
            conn.execute(text("ANALYZE TABLE users, todos"))
            auto = conn.execute(text("SELECT @@innodb_stats_auto_recalc")).scalar_one()
            return f"ANALYZE TABLE run after seeding (innodb_stats_auto_recalc={auto})"
    finally:
        engine.dispose()


def rate_limit_settings() -> list[str]:
    """Every throttle the app has: each RATE_LIMIT_* field of its Settings model (today
    LOGIN, LOGIN_IP, REGISTER, LOGIN_ACCOUNT, PASSWORD_CHECK, WRITE and PASSWORD_RESET), all
    raised for the benchmark, whose seeding and load come from one address and three users."""
    return sorted(name for name in Settings.model_fields if name.startswith("RATE_LIMIT_"))


def app_env(db: FreshDatabase, log_level: str) -> dict[str, str]:
    """The app's environment: production mode, our database, every throttle raised."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(
        ENVIRONMENT="production",
        DATABASE_URL=db.url,
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_LEVEL=log_level,
        REDIS_URL="",
        FORWARDED_ALLOW_IPS="",
        ACCESS_TOKEN_EXPIRE_MINUTES="120",
        PYTHONUNBUFFERED="1",
    )
    env.update(dict.fromkeys(rate_limit_settings(), HIGH_RATE))
    return env


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "alembic", "upgrade", "head"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SetupError(f"alembic upgrade head failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
