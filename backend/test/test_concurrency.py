"""Real concurrency against a real uvicorn process on the selected database.

64 simultaneous creates by one user all succeed and are all stored; 256 concurrent
connections all get answers (nothing queues forever behind the connection pool); racing
sign-ups for one name give exactly one account; a stream of malformed large bodies does
not pile up in the worker's memory; steady load closes none of the pool's connections.
"""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.models import User
from backend.scripts.bench.processes import status_kb
from backend.test.conftest import AccountFactory, live_env
from backend.test.factories import count_todos, make_todo, user_payload
from backend.test.live import LiveServer

STARTUP_SECONDS = 60.0
CLIENT_TIMEOUT = httpx.Timeout(30.0)


@pytest.fixture(scope="module")
def live_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`uvicorn backend.main:app` in a subprocess on a free port, ready when /health says so."""
    env = live_env(settings)
    log_path = tmp_path_factory.mktemp("uvicorn") / "server.log"
    args = ["--log-level", "warning", "--no-access-log"]
    with LiveServer.uvicorn(env=env, log_path=log_path, args=args, startup_timeout=STARTUP_SECONDS) as server:
        yield server


async def _gather(base_url: str, max_connections: int, calls: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=CLIENT_TIMEOUT) as client:
        async with asyncio.timeout(120):
            return await asyncio.gather(
                *(client.request(method, url, **kw) for method, url, kw in calls), return_exceptions=True
            )


def statuses(results: list[Any]) -> list[Any]:
    return [r.status_code if isinstance(r, httpx.Response) else f"{type(r).__name__}: {r}" for r in results]


class TestConcurrentWrites:
    def test_64_simultaneous_creates_by_one_user_are_all_stored(
        self, live_server: LiveServer, account_factory: AccountFactory, db_session: Session
    ) -> None:
        user = account_factory()
        calls = [
            ("POST", "/todos/todos", {"json": {"title": f"parallel {n}"}, "headers": user.headers}) for n in range(64)
        ]

        results = asyncio.run(_gather(live_server.url, 64, calls))

        assert statuses(results) == [201] * 64, live_server.tail()
        assert len({r.json()["id"] for r in results}) == 64
        assert count_todos(db_session, user.id) == 64
        listed = httpx.get(
            f"{live_server.url}/todos/", params={"limit": 100}, headers=user.headers, timeout=CLIENT_TIMEOUT
        )
        assert listed.headers["X-Total-Count"] == "64"
        assert sorted(item["title"] for item in listed.json()) == sorted(f"parallel {n}" for n in range(64))

    def test_racing_sign_ups_for_one_name_create_exactly_one_account(
        self, live_server: LiveServer, db_session: Session
    ) -> None:
        calls = [
            ("POST", "/user/register", {"json": user_payload(username="RaceWinner", email=f"racer{n}@example.com")})
            for n in range(12)
        ]

        results = asyncio.run(_gather(live_server.url, 12, calls))

        codes = statuses(results)
        assert sorted(codes) == [201] + [409] * 11, f"{codes}\n{live_server.tail()}"
        accounts = db_session.execute(select(User.id).where(User.username_key == "racewinner")).all()
        assert len(accounts) == 1


class TestManyConnections:
    def test_256_concurrent_connections_are_all_answered(
        self, live_server: LiveServer, account_factory: AccountFactory, db_session: Session
    ) -> None:
        user = account_factory()
        for _ in range(50):
            make_todo(db_session, user.id)
        calls = [("GET", "/todos/", {"params": {"limit": 50}, "headers": user.headers}) for _ in range(256)]

        results = asyncio.run(_gather(live_server.url, 256, calls))

        assert statuses(results) == [200] * 256, live_server.tail()
        assert all(len(r.json()) == 50 for r in results)

    def test_256_concurrent_writes_and_reads_are_all_answered(
        self, live_server: LiveServer, account_factory: AccountFactory, db_session: Session
    ) -> None:
        users = [account_factory() for _ in range(4)]
        calls: list[tuple[str, str, dict[str, Any]]] = []
        for n in range(256):
            owner = users[n % 4]
            if n % 2:
                calls.append(("POST", "/todos/todos", {"json": {"title": f"w{n}"}, "headers": owner.headers}))
            else:
                calls.append(("GET", "/todos/", {"headers": owner.headers}))

        results = asyncio.run(_gather(live_server.url, 256, calls))

        assert sorted(set(statuses(results))) == [200, 201], live_server.tail()
        assert count_todos(db_session) == 128


def _connections(db_session: Session) -> tuple[int, int]:
    """(connections the database server has accepted so far, connections open to this database now)."""
    if db_session.get_bind().dialect.name == "postgresql":
        row = db_session.execute(
            text(
                "SELECT (SELECT sessions FROM pg_stat_database WHERE datname = current_database()),"
                " (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())"
            )
        ).one()
    else:
        row = db_session.execute(
            text(
                "SELECT (SELECT variable_value FROM information_schema.global_status"
                " WHERE variable_name = 'CONNECTIONS'),"
                " (SELECT count(*) FROM information_schema.processlist WHERE db = database())"
            )
        ).one()
    db_session.rollback()  # a fresh snapshot (statistics) next time
    return int(row[0]), int(row[1])


def _counted(db_session: Session, opened_before: int, open_before: int) -> tuple[int, int]:
    """`_connections()` once PostgreSQL's statistics count every connection open now (a new
    backend reports itself at its first transaction's end)."""
    deadline = time.monotonic() + 10
    while True:
        opened, now_open = _connections(db_session)
        settled = opened - opened_before >= now_open - open_before
        if settled or db_session.get_bind().dialect.name != "postgresql" or time.monotonic() > deadline:
            return opened, now_open
        db_session.execute(text("SELECT pg_stat_clear_snapshot()"))


class TestSteadyLoad:
    def test_steady_load_closes_none_of_the_pools_connections(
        self, live_server: LiveServer, account_factory: AccountFactory, db_session: Session
    ) -> None:
        # At 10 + 5 connections the pool closed an overflow connection whenever it got back
        # to 10 idle ones, and opened another for the next request (docs/performance.md).
        if db_session.get_bind().dialect.name == "sqlite":
            pytest.skip("no connection pool to a server on SQLite")
        users = [account_factory() for _ in range(4)]
        todos = [make_todo(db_session, user.id)["id"] for user in users for _ in range(4)]
        db_session.commit()
        calls: list[tuple[str, str, dict[str, Any]]] = []
        for n in range(64):
            user, todo_id = users[n % 16 // 4], todos[n % 16]
            if n % 4 == 0:
                calls.append(("PUT", f"/todos/todo/{todo_id}", {"json": {"title": f"t{n}"}, "headers": user.headers}))
            elif n % 4 == 1:
                calls.append(("POST", "/todos/todos", {"json": {"title": f"n{n}"}, "headers": user.headers}))
            else:
                calls.append(("GET", f"/todos/{todo_id}" if n % 4 == 2 else "/todos/", {"headers": user.headers}))
        assert set(statuses(asyncio.run(_gather(live_server.url, 64, calls)))) <= {200, 201}  # the pool fills
        opened_before, open_before = _connections(db_session)

        for _ in range(8):
            results = asyncio.run(_gather(live_server.url, 64, calls))
            assert set(statuses(results)) <= {200, 201}, live_server.tail()

        opened_after, open_after = _counted(db_session, opened_before, open_before)
        closed = (opened_after - opened_before) - (open_after - open_before)
        assert closed == 0, f"{opened_after - opened_before} opened, {open_after - open_before} more open now"


class TestLargeBodies:
    def test_a_hundred_malformed_megabytes_of_json_do_not_stay_in_memory(self, live_server: LiveServer) -> None:
        body = b'{"title": "' + b"z" * 1_000_000  # not JSON: each is refused with a 422
        with httpx.Client(base_url=live_server.url, timeout=CLIENT_TIMEOUT) as client:
            client.post("/todos/todos", content=body, headers={"Content-Type": "application/json"})
            before = status_kb(live_server.pid)["VmRSS"] / 1024
            codes = {
                client.post("/todos/todos", content=body, headers={"Content-Type": "application/json"}).status_code
                for _ in range(100)
            }
        grown = status_kb(live_server.pid)["VmRSS"] / 1024 - before

        assert codes == {422}
        # Each request leaves its body in a reference cycle. Kept until the collector's
        # next young run, 100 of them took the worker up 194 MB (core/memory.BodyCollector).
        assert grown < 30, f"RSS grew {grown:.1f} MB"
