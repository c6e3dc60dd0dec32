"""Alembic on the selected server: upgrade head gives exactly the models' schema; downgrade base undoes it."""

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from backend.models import Base
from backend.test.conftest import DatabaseFactory, alembic_config

TABLES = {"users", "todos", "revoked_tokens", "form_drafts"}


@pytest.fixture
def empty_database(database_factory: DatabaseFactory) -> Iterator[tuple[str, Engine]]:
    """A second, empty database on the same server, dropped afterwards."""
    with database_factory() as url:
        engine = create_engine(url)
        yield url, engine
        engine.dispose()


def drift(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diffs: list[Any] = compare_metadata(context, Base.metadata)
    return diffs


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestMigrations:
    def test_upgrade_head_on_an_empty_database_matches_the_models(self, empty_database: tuple[str, Engine]) -> None:
        url, engine = empty_database

        command.upgrade(alembic_config(url), "head")

        assert tables(engine) == TABLES | {"alembic_version"}
        assert drift(engine) == []

    def test_downgrade_base_removes_every_table(self, empty_database: tuple[str, Engine]) -> None:
        url, engine = empty_database
        command.upgrade(alembic_config(url), "head")

        command.downgrade(alembic_config(url), "base")

        assert tables(engine) - {"alembic_version"} == set()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0

    def test_upgrade_again_after_a_downgrade(self, empty_database: tuple[str, Engine]) -> None:
        url, engine = empty_database
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.downgrade(config, "base")

        command.upgrade(config, "head")

        assert drift(engine) == []

    def test_the_session_database_is_at_head(self, engine: Engine) -> None:
        head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()

        assert current == head
        assert drift(engine) == []

    def test_list_indexes_lead_with_the_owner(self, engine: Engine) -> None:
        indexes = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("todos")}

        owner_led = [columns for columns in indexes.values() if columns and columns[0] == "owner_id"]

        assert {tuple(columns[:2]) for columns in owner_led} >= {
            ("owner_id", "created_at"),
            ("owner_id", "priority"),
            ("owner_id", "due_date"),
            ("owner_id", "title"),
        }

    def test_mysql_tables_are_utf8mb4(self, engine: Engine) -> None:
        if engine.dialect.name != "mysql":
            pytest.skip("MariaDB/MySQL only")
        with engine.connect() as conn:
            collations: dict[str, str] = dict(
                conn.execute(
                    text(
                        "SELECT table_name, table_collation FROM information_schema.tables "
                        "WHERE table_schema = DATABASE()"
                    )
                ).all()
            )

        assert {name: collations[name].startswith("utf8mb4") for name in TABLES} == dict.fromkeys(TABLES, True)
