"""Alembic environment: URL from the app settings, metadata from backend.models."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from backend.core.config import get_settings
from backend.database.session import build_engine
from backend.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Rebuilding a table drops the old one, which with foreign keys on would cascade
        # to its children. The pragma only takes effect outside a transaction, so it goes
        # straight to the driver before the migration's transaction begins.
        _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        _migrate(connection)
        if sqlite:
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if problems:
                raise RuntimeError(f"foreign key check failed after migrating: {problems[:5]}")
    finally:
        if sqlite:
            _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    if connection.in_transaction():
        connection.commit()
    connection.connection.driver_connection.execute(pragma)  # type: ignore[union-attr]


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = config.attributes.get("url") or get_settings().DATABASE_URL
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed in by tests
        _run(connection)
        return
    settings = get_settings()
    engine = build_engine(settings, config.attributes.get("url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
