"""Real concurrency against a real uvicorn process on the selected database.

64 simultaneous creates by one user all succeed and are all stored; 256 concurrent
connections all get answers (nothing queues forever behind the connection pool); racing
sign-ups for one name give exactly one account; a stream of malformed large bodies does
not pile up in the worker's memory.
"""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
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
