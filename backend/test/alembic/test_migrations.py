"""Alembic on the selected server: upgrade head gives exactly the models' schema; downgrade base undoes it."""

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, CursorResult, Engine, MetaData, Table, create_engine, func, inspect, select, text

from backend.database.drivers import sync_url
from backend.models import COUNT_SLOTS, Base
from backend.test.conftest import DatabaseFactory, alembic_config

TABLES = {
    "users",
    "todos",
    "todo_counts",
    "lists",
    "list_members",
    "revoked_tokens",
    "form_drafts",
    "schedules",
    "idempotency_keys",
}


@pytest.fixture
def empty_database(database_factory: DatabaseFactory) -> Iterator[tuple[str, Engine]]:
    """A second, empty database on the same server, dropped afterwards."""
    with database_factory() as url:
        engine = create_engine(sync_url(url))
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


def inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _user_row(n: int) -> dict[str, Any]:
    now = datetime(2026, 11, 26, 12, 0, 0)
    return {
        "username": f"old{n}",
        "username_key": f"old{n}",
        "email": f"old{n}@example.com",
        "email_key": f"old{n}@example.com",
        "first_name": "Old",
        "last_name": "Timer",
        "phone_number": None,
        "role": "admin" if n == 0 else "user",
        "is_active": True,
        "hashed_password": "h",
        "token_version": n,
        "todo_count": 1,
        "created_at": now,
        "updated_at": now,
    }


def _new_user_row(n: int) -> dict[str, Any]:
    """A user row as the head revision stores it (the count lives in todo_counts since 0007)."""
    row = _user_row(n)
    del row["todo_count"]
    return row


def _todo_row(owner_id: int) -> dict[str, Any]:
    now = datetime(2026, 11, 26, 12, 0, 0)
    return {
        "owner_id": owner_id,
        "title": f"Todo of {owner_id}",
        "description": "kept",
        "priority": 4,
        "complete": False,
        "due_date": date(2026, 12, 24),
        "created_at": now,
        "updated_at": now,
    }


class TestUpgradeFromTheFirstRevision:
    """0002 on a database made by 0001, with data: nothing lost, ids never handed out twice."""

    def test_rows_survive_and_every_account_gets_its_own_key(self, empty_database: tuple[str, Engine]) -> None:
        url, engine = empty_database
        config = alembic_config(url)
        command.upgrade(config, "0001")
        with engine.begin() as conn:
            users, todos = (Table(name, MetaData(), autoload_with=conn) for name in ("users", "todos"))
            for n in range(3):
                conn.execute(users.insert().values(_user_row(n)))
            ids = [row.id for row in conn.execute(select(users.c.id).order_by(users.c.id))]
            for user_id in ids:
                conn.execute(todos.insert().values(_todo_row(user_id)))
            before = conn.execute(select(todos).order_by(todos.c.id)).all()

        command.upgrade(config, "head")

        with engine.connect() as conn:
            users, todos = (Table(name, MetaData(), autoload_with=conn) for name in ("users", "todos"))
            after = conn.execute(select(*[todos.c[name] for name in before[0]._fields]).order_by(todos.c.id)).all()
            keys = [row.auth_key for row in conn.execute(select(users.c.auth_key))]
            names = [row.username for row in conn.execute(select(users.c.username).order_by(users.c.id))]
        assert [tuple(row) for row in after] == [tuple(row) for row in before]
        assert names == ["old0", "old1", "old2"]
        assert len(set(keys)) == 3 and all(len(key) == 32 for key in keys)
        assert drift(engine) == []

    def test_every_account_gets_a_zone_and_its_own_calendar_feed(self, empty_database: tuple[str, Engine]) -> None:
        url, engine = empty_database
        config = alembic_config(url)
        command.upgrade(config, "0003")
        with engine.begin() as conn:
            users, todos = (Table(name, MetaData(), autoload_with=conn) for name in ("users", "todos"))
            for n in range(3):
                conn.execute(users.insert().values({**_user_row(n), "auth_key": str(n) * 32}))
            first = conn.execute(select(func.min(users.c.id))).scalar_one()
            conn.execute(todos.insert().values(_todo_row(first)))

        command.upgrade(config, "head")

        with engine.connect() as conn:
            users, todos = (Table(name, MetaData(), autoload_with=conn) for name in ("users", "todos"))
            rows = conn.execute(select(users.c.timezone, users.c.calendar_token, users.c.auth_key)).all()
            todo = conn.execute(select(todos)).one()
        assert [row.timezone for row in rows] == ["UTC"] * 3
        assert len({row.calendar_token for row in rows}) == 3 and all(len(row.calendar_token) >= 40 for row in rows)
        assert sorted(row.auth_key for row in rows) == ["0" * 32, "1" * 32, "2" * 32]
        assert (todo.title, todo.due_time, todo.remind_at, todo.reminder_sent_at) == (
            f"Todo of {first}",
            None,
            None,
            None,
        )
        assert drift(engine) == []

    def test_a_deleted_newest_rows_ids_are_not_reused(self, empty_database: tuple[str, Engine]) -> None:
        url, engine = empty_database
        config = alembic_config(url)
        command.upgrade(config, "0001")
        with engine.begin() as conn:
            users = Table("users", MetaData(), autoload_with=conn)
            for n in range(2):
                conn.execute(users.insert().values(_user_row(n)))
        command.upgrade(config, "head")

        with engine.begin() as conn:
            users, todos = (Table(name, MetaData(), autoload_with=conn) for name in ("users", "todos"))
            newest = conn.execute(select(func.max(users.c.id))).scalar_one()
            lists = Table("lists", MetaData(), autoload_with=conn)
            inbox = conn.execute(select(lists.c.id).where(lists.c.owner_id == first_user(conn, users))).scalar_one()
            todo_id = inserted_id(
                conn.execute(todos.insert().values({**_todo_row(newest), "list_id": inbox, "tags": ""}))
            )
            conn.execute(todos.delete().where(todos.c.id == todo_id))
            conn.execute(users.delete().where(users.c.id == newest))
            new_user = inserted_id(
                conn.execute(
                    users.insert().values({**_new_user_row(9), "auth_key": "a" * 32, "calendar_token": "c" * 43})
                )
            )
            new_todo = inserted_id(
                conn.execute(todos.insert().values({**_todo_row(new_user), "list_id": inbox, "tags": ""}))
            )

        assert new_user > newest
        assert new_todo > todo_id


def first_user(conn: Connection, users: Table) -> int:
    first: int = conn.execute(select(func.min(users.c.id))).scalar_one()
    return first


class TestUpgradeToLists:
    """0006 on a database with users and todos: an Inbox each, every todo in its owner's Inbox."""

    def test_every_user_gets_an_inbox_holding_their_todos_in_order(self, empty_database: tuple[str, Engine]) -> None:
        url, engine = empty_database
        config = alembic_config(url)
        command.upgrade(config, "0005")
        with engine.begin() as conn:
            users, todos = (Table(name, MetaData(), autoload_with=conn) for name in ("users", "todos"))
            for n in range(3):
                conn.execute(
                    users.insert().values({**_user_row(n), "auth_key": str(n) * 32, "calendar_token": str(n) * 43})
                )
            ids = [row.id for row in conn.execute(select(users.c.id).order_by(users.c.id))]
            for user_id in ids[:2]:
                for _ in range(2):
                    conn.execute(todos.insert().values(_todo_row(user_id)))
            before = conn.execute(select(todos).order_by(todos.c.id)).all()

        command.upgrade(config, "head")

        with engine.connect() as conn:
            users, todos, lists = (Table(name, MetaData(), autoload_with=conn) for name in ("users", "todos", "lists"))
            inboxes = {
                row.owner_id: row
                for row in conn.execute(select(lists.c.id, lists.c.owner_id, lists.c.name, lists.c.is_inbox))
            }
            after = conn.execute(select(todos).order_by(todos.c.id)).all()
            themes = set(conn.execute(select(users.c.theme)).scalars())
        assert sorted(inboxes) == ids
        assert {(row.name, bool(row.is_inbox)) for row in inboxes.values()} == {("Inbox", True)}
        assert [row.id for row in after] == [row.id for row in before]
        for old, new in zip(before, after, strict=True):
            assert new.title == old.title and new.owner_id == old.owner_id
            assert new.list_id == inboxes[old.owner_id].id
            assert new.position == old.id
            assert (new.tags, new.repeat, new.created_by) == ("", None, f"old{ids.index(old.owner_id)}")
        assert themes == {"system"}
        assert drift(engine) == []


class TestUpgradeToCountRows:
    """0007 on a database with counted users: each count moves into its user's count rows, and back."""

    def test_each_users_count_becomes_the_sum_of_their_rows_and_comes_back(
        self, empty_database: tuple[str, Engine]
    ) -> None:
        url, engine = empty_database
        config = alembic_config(url)
        command.upgrade(config, "0006")
        with engine.begin() as conn:
            users = Table("users", MetaData(), autoload_with=conn)
            for n, count in enumerate((3, 0, 41)):
                row = {**_user_row(n), "todo_count": count, "auth_key": str(n) * 32, "calendar_token": str(n) * 43}
                conn.execute(users.insert().values(row))
            ids = [row.id for row in conn.execute(select(users.c.id).order_by(users.c.id))]

        command.upgrade(config, "head")

        with engine.connect() as conn:
            counts = Table("todo_counts", MetaData(), autoload_with=conn)
            rows = conn.execute(select(counts.c.user_id, counts.c.slot, counts.c.todo_count)).all()
            columns = {column.name for column in Table("users", MetaData(), autoload_with=conn).columns}
        assert "todo_count" not in columns
        assert sorted((user_id, slot) for user_id, slot, _ in rows) == [
            (user_id, slot) for user_id in ids for slot in range(COUNT_SLOTS)
        ]
        totals = {user_id: sum(count for owner, _, count in rows if owner == user_id) for user_id in ids}
        assert totals == dict(zip(ids, (3, 0, 41), strict=True))
        assert drift(engine) == []

        with engine.begin() as conn:  # a count spread over several rows, as writes leave it
            counts = Table("todo_counts", MetaData(), autoload_with=conn)
            spread = (counts.c.user_id == ids[1]) & (counts.c.slot.in_([2, 5]))
            conn.execute(counts.update().where(spread).values(todo_count=counts.c.todo_count + 2))
        command.downgrade(config, "0006")

        with engine.connect() as conn:
            users = Table("users", MetaData(), autoload_with=conn)
            back = dict(conn.execute(select(users.c.id, users.c.todo_count)).all())
            tables = set(inspect(conn).get_table_names())
        assert back == dict(zip(ids, (3, 4, 41), strict=True))
        assert "todo_counts" not in tables


PARTIAL = {"ix_todos_remind_at", "ix_todos_owner_deleted", "ix_todos_deleted_at"}


def partial_indexes(engine: Engine) -> set[str]:
    """Which of PARTIAL keep only some rows, read from the database's own catalog."""
    assert PARTIAL <= {index["name"] for index in inspect(engine).get_indexes("todos")}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            definitions = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        elif engine.dialect.name == "postgresql":
            definitions = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'todos'"))
        else:
            return set()  # MariaDB: no partial indexes
        return {name for name, sql in definitions if name in PARTIAL and " WHERE " in sql}


class TestPartialIndexes:
    """0008: the reminder and trash indexes keep only todos with a reminder, or in the trash."""

    def test_partial_where_the_database_has_them_and_whole_again_after_downgrade(
        self, empty_database: tuple[str, Engine]
    ) -> None:
        url, engine = empty_database
        config = alembic_config(url)
        command.upgrade(config, "head")

        assert partial_indexes(engine) == (set() if engine.dialect.name == "mysql" else PARTIAL)
        assert drift(engine) == []

        command.downgrade(config, "0007")
        assert partial_indexes(engine) == set()
