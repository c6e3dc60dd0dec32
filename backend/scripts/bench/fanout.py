"""The WebSocket fan-out row: how fast a change reaches every open socket of its owner, and
what the open sockets cost the worker in memory.

The issue's figures: 500 open sockets across 50 users (10 each), 1,000 changes; delivery
latency p50/p99, and the worker's RSS with the sockets open. Targets: p99 <= 250 ms on one
worker with SQLite, no event lost, RSS growth <= 40 MB for the 500 sockets.

It runs on an app server of its own (one uvicorn worker), after the wrk rows and before the
export row, so its sockets and its thousand writes touch no other row's figures. From one
asyncio client process: 50 users registered through the API; the worker's VmRSS read
(after it has gone idle); 500 sockets opened with bearer headers, compression negotiated as
a browser does; VmRSS read again; then the changes through the JSON API, 8 in flight,
alternately a create and a PATCH of the todo that user created last, each titled
"fanout change <n>" so every event names its change. A socket's delivery latency is its
arrival time minus the event's own `at` (stamped by the server just before the commit; the
client shares the machine's clock), so it holds the commit, the hand-over to the event loop,
the send, and the client's own loop. The server's `{"type":"ping"}` is answered.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from backend.scripts.bench.common import SetupError, log
from backend.scripts.bench.export_memory import RssWatch
from backend.scripts.bench.fanout_stats import FanoutResult, percentile, tally
from backend.scripts.bench.processes import status_kb, wait_idle, worker_pids
from backend.scripts.bench.seeding import register_and_login, todo_body
from backend.test.live import LiveServer

FANOUT_USERS = 50
SOCKETS_PER_USER = 10
FANOUT_CHANGES = 1_000
FANOUT_CHANGES_QUICK = 200
IN_FLIGHT = 8  # changes in flight at once
OPEN_AT_ONCE = 25  # handshakes in flight at once
SETTLE_SECONDS = 5.0  # after the last change: how long without a new arrival before the rest count as lost
TITLE = "fanout change "
PONG = json.dumps({"type": "pong"})


@dataclass
class Listener:
    """One open socket of `user`: the change numbers it received and each one's latency."""

    user: int
    ws: ClientConnection
    changes: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    closed_early: bool = False
    task: asyncio.Task[None] | None = None


def change_number(message: dict[str, Any]) -> int:
    """The change an event announces, from its todo's title; -1 for anything else."""
    todo = message.get("todo")
    title = todo.get("title", "") if isinstance(todo, dict) else ""
    suffix = title.removeprefix(TITLE)
    return int(suffix) if title.startswith(TITLE) and suffix.isdigit() else -1


def at_seconds(at: str) -> float:
    """An event's `at` (RFC 3339 UTC, `…Z`) as a Unix timestamp."""
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


async def listen(listener: Listener, finishing: asyncio.Event) -> None:
    try:
        async for raw in listener.ws:
            arrival = time.time()
            message = json.loads(raw)
            kind = str(message.get("type"))
            if kind == "ping":
                await listener.ws.send(PONG)
            elif kind.startswith("todo."):
                listener.changes.append(change_number(message))
                listener.latencies_ms.append((arrival - at_seconds(message["at"])) * 1000)
    except ConnectionClosed:
        pass
    listener.closed_early = not finishing.is_set()


async def open_sockets(url: str, tokens: list[str], finishing: asyncio.Event) -> list[Listener]:
    """SOCKETS_PER_USER sockets for each user, OPEN_AT_ONCE handshakes at a time, each read by a task."""
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def one(user: int) -> Listener:
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        async with gate:
            try:
                ws = await connect(url, additional_headers=headers, ping_interval=None, proxy=None)
            except (OSError, WebSocketException, TimeoutError) as exc:
                raise SetupError(f"GET /ws for fan-out user {user}: {exc!r}") from None
        listener = Listener(user, ws)
        listener.task = asyncio.create_task(listen(listener, finishing))
        return listener

    return list(await asyncio.gather(*(one(u) for u in range(len(tokens)) for _ in range(SOCKETS_PER_USER))))


async def lane(client: httpx.AsyncClient, tokens: list[str], changes: list[int]) -> None:
    """One in-flight slot: its users' changes in order (so an update never overtakes its create)."""
    latest: dict[int, int] = {}  # user -> the todo its next update changes
    for n in changes:
        user = n % len(tokens)
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        if user in latest and (n // len(tokens)) % 2:
            response = await client.patch(f"/todos/todo/{latest[user]}", json={"title": f"{TITLE}{n}"}, headers=headers)
        else:
            response = await client.post(
                "/todos/todos", json={**todo_body(n, "F"), "title": f"{TITLE}{n}"}, headers=headers
            )
        if not response.is_success:
            raise SetupError(
                f"fan-out change {n}: {response.request.method} HTTP {response.status_code} {response.text[:200]}"
            )
        latest[user] = int(response.json()["id"])


async def make_changes(base: str, tokens: list[str], count: int) -> dict[int, int]:
    """`count` changes spread over the users, IN_FLIGHT at a time; change number -> its user."""
    users, limits = len(tokens), httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    lanes = [[n for n in range(count) if n % users % IN_FLIGHT == k] for k in range(IN_FLIGHT)]
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        await asyncio.gather(*(lane(client, tokens, changes) for changes in lanes))
    return {n: n % users for n in range(count)}


async def settle(listeners: list[Listener], expected: int) -> None:
    """Until every expected delivery arrived, or none arrived for SETTLE_SECONDS (a measuring
    loop, not a test's wait: what never arrives is counted as lost)."""
    last, since = -1, time.monotonic()
    while (got := sum(len(listener.changes) for listener in listeners)) < expected:
        if got != last:
            last, since = got, time.monotonic()
        elif time.monotonic() - since > SETTLE_SECONDS:
            return
        await asyncio.sleep(0.05)


def register_users(base: str, count: int) -> list[str]:
    """`count` users registered and logged in through the API (4 at a time); their bearer tokens."""
    stamp = f"{time.time_ns() % 10**9:x}"

    def one(n: int) -> str:
        with httpx.Client(base_url=base, timeout=30.0) as client:
            return register_and_login(client, f"bench_f{n}x{stamp}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def rss_mb(pid: int) -> float:
    return status_kb(pid).get("VmRSS", 0) / 1024


async def _measure(server: LiveServer, changes: int) -> FanoutResult:
    pid = worker_pids(server.pid)[0]
    tokens = await asyncio.to_thread(register_users, server.url, FANOUT_USERS)
    await asyncio.to_thread(wait_idle, server)
    before = rss_mb(pid)
    finishing = asyncio.Event()
    started = time.monotonic()
    listeners = await open_sockets(f"ws{server.url.removeprefix('http')}/ws", tokens, finishing)
    open_seconds = time.monotonic() - started
    await asyncio.to_thread(wait_idle, server)
    opened = rss_mb(pid)
    log(f"fan-out: {len(listeners)} sockets open in {open_seconds:.1f} s; RSS {before:.1f} -> {opened:.1f} MB")
    watch = RssWatch(pid)
    watch.start()
    started = time.monotonic()
    try:
        owners = await make_changes(server.url, tokens, changes)
        change_seconds = time.monotonic() - started
        await settle(listeners, changes * SOCKETS_PER_USER)
    finally:
        peak = watch.finish()
        finishing.set()
        await asyncio.gather(*(listener.ws.close() for listener in listeners), return_exceptions=True)
        await asyncio.gather(*(listener.task for listener in listeners if listener.task), return_exceptions=True)
    latencies = [ms for listener in listeners for ms in listener.latencies_ms]
    return FanoutResult(
        users=FANOUT_USERS,
        sockets=len(listeners),
        changes=changes,
        open_seconds=round(open_seconds, 2),
        change_seconds=round(change_seconds, 2),
        rss_before_mb=before,
        rss_open_mb=opened,
        rss_peak_mb=max(peak / 1024, opened),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=float("nan")),
        tally=tally(owners, [(listener.user, listener.changes) for listener in listeners]),
        closed_early=sum(listener.closed_early for listener in listeners),
    )


def measure_fanout(server: LiveServer, changes: int) -> FanoutResult:
    """The fan-out row on `server` (a fresh app worker of its own) with `changes` changes."""
    result = asyncio.run(_measure(server, changes))
    t = result.tally
    log(
        f"fan-out: {changes:,} changes in {result.change_seconds:.1f} s; {t.delivered:,} of {t.expected:,} "
        f"deliveries, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, max {result.max_ms:.1f} ms; "
        f"lost {t.lost}, duplicated {t.duplicated}, misdelivered {t.misdelivered}, closed early {result.closed_early}"
    )
    return result
