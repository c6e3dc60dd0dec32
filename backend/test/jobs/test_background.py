"""The app's background set-up: embedded (threads in this process) or send-only (BROKER_URL)."""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.database.session import Database
from backend.jobs.background import Background
from backend.jobs.queue import JobContext
from backend.jobs.registry import default_schedules
from backend.jobs.schedules import ScheduleSpec
from backend.main import create_app
from backend.models import Todo
from backend.models.base import utcnow
from backend.services.mail import Outbox
from backend.test.conftest import build_settings
from backend.test.factories import make_todo, make_user, state_of
from backend.test.jobs.helpers import lines, record
from backend.test.live import wait_until

pytestmark = pytest.mark.usefixtures("no_schedules")


class Threads:
    """A job that records the thread it ran on."""

    __name__ = "where"

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, ctx: JobContext, *, fire_at: str = "") -> None:
        self.names.append(threading.current_thread().name)


def app_with(background: Background, loop_threads: list[str]) -> FastAPI:
    """What create_app will do: build in the factory, start and stop in the lifespan.

    The route records the thread it ran on in `loop_threads`."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        background.start()
        yield
        await anyio.to_thread.run_sync(background.stop)

    app = FastAPI(lifespan=lifespan)

    @app.post("/work")
    async def work(request: Request) -> dict[str, str]:
        loop_threads.append(threading.current_thread().name)
        return {"id": background.queue.enqueue(record, path=request.query_params["path"], key="from-a-route")}

    return app


class TestEmbedded:
    def test_jobs_and_schedules_run_on_threads_of_the_app_process(
        self, database: Database, settings: Settings, tmp_path: Path
    ) -> None:
        where = Threads()
        sweep = ScheduleSpec("sweep", where, every=timedelta(milliseconds=100))
        registry = CollectorRegistry()
        background = Background(
            settings, database, registry=registry, jobs=[record, where], schedules=[sweep], tick_seconds=0.02
        )
        out = tmp_path / "out.txt"

        loop_threads: list[str] = []
        app = app_with(background, loop_threads)
        with TestClient(app) as client:
            client.post("/work", params={"path": str(out)})
            wait_until(lambda: lines(out) == ["from-a-route"], timeout=10, what="the job sent by the route")
            wait_until(lambda: len(where.names) >= 2, timeout=10, what="two sweeps")

        assert background.queue.embedded and isinstance(background.mailer, Outbox)
        assert set(where.names).isdisjoint({*loop_threads, "embedded-scheduler"})
        assert background.scheduler is None  # stopped by the lifespan
        assert registry.get_sample_value("jobs_done_total", {"job": "record"}) == 1


class TestWithABroker:
    def test_the_app_only_sends(self, database: Database, settings: Settings) -> None:
        broker_settings = build_settings(settings.DATABASE_URL, BROKER_URL="redis://127.0.0.1:6379/0")
        background = Background(broker_settings, database, registry=None)

        background.start()

        assert not background.queue.embedded
        assert background.scheduler is None and not background.queue.worker_alive()
        background.stop()


def test_the_app_alone_sends_due_reminders(settings: Settings, db_session: Session) -> None:
    """`./backend/scripts/start.sh` with no broker: the app's own scheduler and worker threads mail them."""
    owner = make_user(db_session, email="embedded@example.com")
    todo = make_todo(db_session, owner.id, title="Feed the cat")
    db_session.execute(update(Todo).where(Todo.id == todo["id"]).values(remind_at=utcnow() - timedelta(seconds=1)))
    db_session.commit()
    app = create_app(settings)
    background = state_of(app).background
    background.schedules = default_schedules(settings, sweep_every=timedelta(seconds=0.2))
    background.tick_seconds = 0.05
    outbox = background.mailer
    assert isinstance(outbox, Outbox)

    with TestClient(app):
        wait_until(lambda: outbox.to("embedded@example.com"), timeout=10, what="the reminder mail")

    assert [email.subject for email in outbox.messages] == ["Reminder: Feed the cat"]
    db_session.expire_all()
    assert db_session.execute(select(Todo.reminder_sent_at).where(Todo.id == todo["id"])).scalar_one() is not None
    db_session.commit()
