"""Users and todos, created through the API the benchmark measures.

User "a" gets 50 todos one by one, user "b" 10,000 through wrk (seed.lua, 32 in flight,
topped up with httpx should any POST fail), user "c" none (the creates go there).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

from backend.scripts.bench.common import (
    PASSWORD,
    SEED_CONCURRENCY,
    SEED_SECONDS_MAX,
    THREADS,
    TODOS_LARGE,
    TODOS_SMALL,
    SetupError,
    log,
)
from backend.scripts.bench.wrk import WrkJob, run_wrk


@dataclass
class Users:
    """Bearer tokens by user key, and the todo ids the rotating scenarios use."""

    tokens: dict[str, str]
    ids: dict[str, list[int]]
    seed_seconds: float = 0.0
    seed_detail: str = ""
    seed_problem: str | None = None


def todo_body(n: int, who: str) -> dict[str, str | int | None]:
    due = (date(2030, 1, 1) + timedelta(days=n % 730)).isoformat() if n % 3 else None
    return {
        "title": f"{who} todo number {n}",
        "description": f"Seeded by bench.sh: todo {n} of user {who}, with a sentence of text.",
        "priority": n % 5 + 1,
        "due_date": due,
    }


def register_and_login(client: httpx.Client, username: str) -> str:
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "first_name": "Bench",
        "last_name": username.split("_")[1].upper(),
        "password": PASSWORD,
    }
    response = client.post("/user/register", json=body)
    if not response.is_success:
        raise SetupError(f"POST /user/register {username}: HTTP {response.status_code} {response.text[:300]}")
    response = client.get("/login", auth=(username, PASSWORD))
    if response.status_code != 200:
        raise SetupError(f"GET /login {username}: HTTP {response.status_code} {response.text[:300]}")
    return str(response.json()["access_token"])


def seed_sequential(client: httpx.Client, token: str, who: str, count: int) -> list[int]:
    ids = []
    for n in range(count):
        response = client.post("/todos/todos", json=todo_body(n, who), headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 201:
            raise SetupError(f"seeding {who}: POST /todos/todos HTTP {response.status_code} {response.text[:300]}")
        ids.append(int(response.json()["id"]))
    return ids


async def _seed_parallel(base: str, token: str, who: str, count: int) -> tuple[int, list[str]]:
    pending = list(range(count))
    failures: list[str] = []
    created = 0
    limits = httpx.Limits(max_connections=SEED_CONCURRENCY, max_keepalive_connections=SEED_CONCURRENCY)

    async def worker(client: httpx.AsyncClient, queue: list[int], retry: list[int]) -> None:
        nonlocal created
        while queue:
            n = queue.pop()
            try:
                response = await client.post("/todos/todos", json=todo_body(n, who))
            except httpx.HTTPError as exc:
                retry.append(n)
                failures.append(repr(exc))
                continue
            if response.status_code == 201:
                created += 1
            else:
                retry.append(n)
                failures.append(f"HTTP {response.status_code} {response.text[:200]}")

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0, headers=headers) as client:
        # Whatever fails is retried with fewer requests in flight, down to one at a time, so
        # an app that fails only under concurrent writes can still be seeded and measured.
        for concurrency in (SEED_CONCURRENCY, 8, 1, 1):
            queue, pending = pending, []
            await asyncio.gather(*(worker(client, queue, pending) for _ in range(concurrency)))
            if not pending:
                break
    return created, failures


def seed_parallel(base: str, token: str, who: str, count: int) -> list[str]:
    """POST `count` todos through the API with httpx; the distinct errors seen on the way."""
    created, failures = asyncio.run(_seed_parallel(base, token, who, count))
    if created != count:
        sample = "; ".join(sorted(set(failures))[:5])
        raise SetupError(f"seeding {who}: {created} of {count} todos created; errors: {sample}")
    return failures


def count_todos(base: str, token: str) -> int | None:
    """The caller's todo count as the API reports it (X-Total-Count), or None without one."""
    response = httpx.get(f"{base}/todos/?limit=1", headers={"Authorization": f"Bearer {token}"}, timeout=30.0)
    if response.status_code != 200:
        raise SetupError(f"GET /todos/?limit=1: HTTP {response.status_code} {response.text[:300]}")
    total = response.headers.get("X-Total-Count")
    return int(total) if total and total.isdigit() else None


def seed_large(base: str, token: str, who: str, count: int, raw_log: Path) -> tuple[str, str | None]:
    """POST `count` todos quickly: wrk with seed.lua (exactly `count` POSTs, 32 in flight),
    then an exact count through the API and an httpx top-up of any shortfall.
    Returns a summary and, when any POST failed, a description of the failures."""
    job = WrkJob(f"seed_{who}", base, "/todos/todos", "seed.lua", SEED_CONCURRENCY, 10, token=token)
    env = {"BENCH_SEED_TOTAL": str(count), "BENCH_SEED_THREADS": str(THREADS)}
    result = run_wrk(job, SEED_SECONDS_MAX, raw_log, extra_env=env)
    created = result.seed_created
    have = count_todos(base, token)
    if have is None:
        log("no X-Total-Count on GET /todos/: trusting wrk's count of 201 responses")
        have = created
    detail = f"wrk: {created:,} created, {result.status} non-2xx, {result.timeout} timeouts"
    problem = None
    if result.status or result.socket_errors:
        problem = (
            f"seeding {count:,} todos with wrk POST at -c{SEED_CONCURRENCY}: {result.status} responses >= 400, "
            f"{result.timeout} timeouts, {result.socket_errors - result.timeout} other socket errors"
        )
    if have < count:
        log(f"seeding {who}: {have:,} of {count:,} after wrk ({detail}); topping up with httpx")
        failures = seed_parallel(base, token, who, count - have)
        if failures:
            detail += f"; top-up retried {len(failures):,} failed POSTs"
            top_up = f"httpx top-up: {len(failures):,} failed POSTs ({'; '.join(sorted(set(failures))[:3])})"
            problem = f"{problem or 'seeding'}; {top_up}"
        have = count_todos(base, token) or count
    if have != count:
        raise SetupError(f"seeding {who}: the API reports {have:,} todos, {count:,} expected ({detail})")
    return detail, problem


def seed(base: str, raw_log: Path) -> Users:
    """Register and log in users a, b and c; give a 50 todos and b 10,000."""
    suffix = secrets.token_hex(3)
    with httpx.Client(base_url=base, timeout=30.0) as client:
        tokens = {who: register_and_login(client, f"bench_{who}_{suffix}") for who in ("a", "b", "c")}
        ids = {"a": seed_sequential(client, tokens["a"], "A", TODOS_SMALL)}
    log(f"seeding user B with {TODOS_LARGE:,} todos (wrk POST, {SEED_CONCURRENCY} in flight)")
    started = time.monotonic()
    detail, problem = seed_large(base, tokens["b"], "B", TODOS_LARGE, raw_log)
    seconds = time.monotonic() - started
    log(f"seeded B in {seconds:.1f} s ({TODOS_LARGE / seconds:,.0f} todos/s; {detail})")
    return Users(tokens, ids, seconds, detail, problem)
