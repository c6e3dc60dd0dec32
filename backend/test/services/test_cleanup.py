"""The nightly clean-up: expired rows go in small batches, live rows stay, a second run finds nothing."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, func, insert, select, update
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.database.session import Database
from backend.jobs.queue import JobContext
from backend.jobs.registry import nightly_cleanup
from backend.models import FormDraft, IdempotencyKey, RevokedToken, Todo
from backend.services import cleanup
from backend.services.mail import Outbox
from backend.test.factories import make_todo, make_user
from backend.test.jobs.helpers import captured

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
DRAFTS = cast(Table, FormDraft.__table__)
REVOKED = cast(Table, RevokedToken.__table__)
KEYS = cast(Table, IdempotencyKey.__table__)


def add_drafts(engine: Engine, count: int, expires_at: datetime) -> None:
    rows = [
        {"key": uuid.uuid4().hex, "path": "/add-todo-page", "fields": "{}", "expires_at": expires_at}
        for _ in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(DRAFTS), rows)


def add_revoked(engine: Engine, user_id: int, count: int, expires_at: datetime) -> None:
    rows = [{"jti": str(uuid.uuid4()), "user_id": user_id, "expires_at": expires_at} for _ in range(count)]
    with engine.begin() as conn:
        conn.execute(insert(REVOKED), rows)


def add_keys(engine: Engine, user_id: int, count: int, expires_at: datetime) -> None:
    rows = [
        {
            "user_id": user_id,
            "key": uuid.uuid4().hex,
            "request_hash": "0" * 64,
            "status_code": 201,
            "response_body": "{}",
            "created_at": expires_at - timedelta(hours=24),
            "expires_at": expires_at,
        }
        for _ in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(KEYS), rows)


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


class TestRun:
    def test_expired_rows_go_and_live_ones_stay(self, engine: Engine, settings: Settings, db_session: Session) -> None:
        user = make_user(db_session)
        add_drafts(engine, 7, NOW - timedelta(seconds=1))
        add_drafts(engine, 2, NOW + timedelta(hours=1))
        add_revoked(engine, user.id, 5, NOW - timedelta(days=1))
        add_revoked(engine, user.id, 3, NOW + timedelta(minutes=1))

        with captured("backend.cleanup") as log:
            removed = cleanup.run(Database(engine, settings), now=NOW, settings=settings, batch_size=3)

        assert removed == {"revoked_tokens": 5, "form_drafts": 7, "idempotency_keys": 0, "trash": 0}
        assert (count(engine, DRAFTS), count(engine, REVOKED)) == (2, 3)
        assert log.records[-1].__dict__["removed"] == removed

    def test_trash_older_than_trash_days_goes_and_the_rest_stays(
        self, engine: Engine, settings: Settings, db_session: Session
    ) -> None:
        owner = make_user(db_session).id
        ids = [make_todo(db_session, owner, title=f"t{n}")["id"] for n in range(5)]
        deleted = {
            ids[0]: NOW - timedelta(days=settings.TRASH_DAYS, seconds=1),  # past its retention
            ids[1]: NOW - timedelta(days=settings.TRASH_DAYS + 9),
            ids[2]: NOW - timedelta(days=settings.TRASH_DAYS - 1),  # still restorable
        }
        for todo_id, at in deleted.items():
            db_session.execute(update(Todo).where(Todo.id == todo_id).values(deleted_at=at))
        db_session.commit()

        removed = cleanup.run(Database(engine, settings), now=NOW, settings=settings, batch_size=1)

        assert removed["trash"] == 2
        with engine.connect() as conn:
            left = set(conn.execute(select(Todo.id).where(Todo.owner_id == owner)).scalars())
        assert left == {ids[2], ids[3], ids[4]}

    def test_expired_idempotency_keys_go_and_live_ones_stay(
        self, engine: Engine, settings: Settings, db_session: Session
    ) -> None:
        user = make_user(db_session)
        add_keys(engine, user.id, 4, NOW - timedelta(minutes=1))
        add_keys(engine, user.id, 2, NOW + timedelta(hours=1))

        removed = cleanup.run(Database(engine, settings), now=NOW, settings=settings, batch_size=3)

        assert removed["idempotency_keys"] == 4
        assert count(engine, KEYS) == 2

    def test_a_second_run_finds_nothing(self, engine: Engine, settings: Settings) -> None:
        add_drafts(engine, 4, NOW - timedelta(days=2))
        database = Database(engine, settings)
        cleanup.run(database, now=NOW, settings=settings)

        again = cleanup.run(database, now=NOW, settings=settings)

        assert again == {"revoked_tokens": 0, "form_drafts": 0, "idempotency_keys": 0, "trash": 0}

    def test_a_new_kind_is_one_more_purge(self, engine: Engine, settings: Settings) -> None:
        add_drafts(engine, 2, NOW - timedelta(days=2))
        only_drafts = tuple(purge for purge in cleanup.purges() if purge.name == "form_drafts")

        removed = cleanup.run(Database(engine, settings), now=NOW, settings=settings, kinds=only_drafts)

        assert removed == {"form_drafts": 2}


class TestBatches:
    def test_a_batch_deletes_at_most_its_limit(self, engine: Engine, settings: Settings, db_session: Session) -> None:
        add_drafts(engine, 5, NOW - timedelta(days=1))
        (drafts,) = (purge for purge in cleanup.purges() if purge.name == "form_drafts")

        deleted = cleanup.delete_expired_batch(db_session, purge=drafts, now=NOW, settings=settings, limit=2)

        assert deleted == 2
        assert count(engine, DRAFTS) == 3

    def test_a_full_batch_takes_well_under_a_second(
        self, engine: Engine, settings: Settings, db_session: Session
    ) -> None:
        add_drafts(engine, 3 * cleanup.BATCH_SIZE, NOW - timedelta(days=1))
        (drafts,) = (purge for purge in cleanup.purges() if purge.name == "form_drafts")

        timings = []
        for _ in range(3):
            started = time.perf_counter()
            cleanup.delete_expired_batch(db_session, purge=drafts, now=NOW, settings=settings, limit=cleanup.BATCH_SIZE)
            timings.append(time.perf_counter() - started)

        assert count(engine, DRAFTS) == 0
        assert max(timings) < 0.5, timings


class TestJob:
    def test_the_nightly_job_runs_the_cleanup_at_the_clock_s_time(self, engine: Engine, settings: Settings) -> None:
        add_drafts(engine, 3, NOW - timedelta(minutes=1))
        add_drafts(engine, 1, NOW + timedelta(minutes=1))
        context = JobContext(settings=settings, db=Database(engine, settings), mailer=Outbox(), clock=lambda: NOW)

        nightly_cleanup(context, fire_at=NOW.isoformat())

        assert count(engine, DRAFTS) == 1
