"""The export-memory row: does `GET /todos/export` keep the worker's memory flat?

The issue's claim is "exporting 100,000 todos raises the worker's RSS by less than 30 MB".
One user gets 100,000 todos (10,000 with --quick) inserted straight into the run's database
through SQLAlchemy Core, in batches, with the user's todo count kept in step: through the API
that would take minutes, and the inserts are not what is measured. Then each format is
downloaded in turn by a streaming client that throws the body away, while the worker's
VmRSS is sampled every 50 ms.

It runs last, on an app server of its own started after every other row: a fresh worker
gives a clean "before", and neither the export's memory nor its rows reach the figures of
the other rows (their peak RSS target included).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import cast

import httpx
from sqlalchemy import Table, create_engine, func, insert, select, update
from sqlalchemy.pool import NullPool

from backend.database.drivers import sync_url
from backend.models import Todo, TodoCount, TodoList, User
from backend.scripts.bench.common import SetupError, log
from backend.scripts.bench.processes import status_kb, wait_idle, worker_pids
from backend.scripts.bench.seeding import count_todos, register_and_login, todo_body
from backend.test.live import LiveServer

EXPORT_TODOS = 100_000
EXPORT_TODOS_QUICK = 10_000
FORMATS = ("json", "csv", "ics")
INSERT_BATCH = 5_000
SAMPLE_INTERVAL = 0.05
TODOS, USERS, LISTS = cast(Table, Todo.__table__), cast(Table, User.__table__), cast(Table, TodoList.__table__)
COUNTS = cast(Table, TodoCount.__table__)


@dataclass
class ExportRow:
    """One format's download and what the worker's resident memory did meanwhile."""

    format: str
    todos: int
    status: int
    bytes: int  # the body as the client reads it (decoded: gzip travels on the wire)
    wire_bytes: int
    seconds: float
    rss_before_mb: float
    rss_peak_mb: float
    samples: int

    @property
    def growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "growth_mb": round(self.growth_mb, 1)}


def todo_rows(owner_id: int, list_id: int, start: int, count: int, now: datetime) -> list[dict[str, object]]:
    """Rows shaped like the API's seeded todos, with a due time and a reminder on some of them
    so the iCalendar writer's DUE-with-time and VALARM paths are exported too."""
    rows: list[dict[str, object]] = []
    for n in range(start, start + count):
        body = todo_body(n, "E")
        due = date.fromisoformat(str(body["due_date"])) if body["due_date"] else None
        timed = due is not None and n % 4 == 0
        rows.append(
            {
                "owner_id": owner_id,
                "list_id": list_id,
                "position": n,
                "tags": " bench " if n % 3 == 0 else "",
                "title": body["title"],
                "description": body["description"],
                "priority": body["priority"],
                "complete": n % 7 == 0,
                "due_date": due,
                "due_time": clock(9, 30) if timed else None,
                "remind_at": now + timedelta(days=3650 + n % 365) if timed else None,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def insert_todos(db_url: str, username: str, count: int) -> None:
    """`count` todos for `username` in batches of INSERT_BATCH, and his todo count raised by as many."""
    engine = create_engine(sync_url(db_url), poolclass=NullPool)
    now = datetime.now(UTC)
    try:
        with engine.connect() as conn:
            owner_id = conn.execute(select(USERS.c.id).where(USERS.c.username_key == username.lower())).scalar_one()
            inbox = conn.execute(select(LISTS.c.id).where(LISTS.c.owner_id == owner_id)).scalar_one()
            for start in range(0, count, INSERT_BATCH):
                conn.execute(insert(TODOS), todo_rows(owner_id, inbox, start, min(INSERT_BATCH, count - start), now))
                conn.commit()
            slot = (COUNTS.c.user_id == owner_id) & (COUNTS.c.slot == 0)
            conn.execute(update(COUNTS).where(slot).values(todo_count=COUNTS.c.todo_count + count))
            conn.commit()
            stored = conn.execute(select(func.count()).where(TODOS.c.owner_id == owner_id)).scalar_one()
    finally:
        engine.dispose()
    if stored != count:
        raise SetupError(f"export user: {stored:,} todos stored, {count:,} inserted")


def seed_export_user(server: LiveServer, db_url: str, count: int) -> str:
    """A user of its own, registered through the API, with `count` todos; his bearer token."""
    username = f"bench_e_{secrets.token_hex(3)}"
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        token = register_and_login(client, username)
    started = time.monotonic()
    insert_todos(db_url, username, count)
    have = count_todos(server.url, token)
    if have != count:
        raise SetupError(f"export user: the API reports {have} todos, {count:,} inserted")
    log(f"export user: {count:,} todos inserted in {time.monotonic() - started:.1f} s (SQLAlchemy Core)")
    return token


def peak_kb(sampled_max: int, hwm_before: int, hwm_after: int) -> int:
    """The peak resident memory during one download. When the kernel's high-water mark rose
    meanwhile, the new mark is the exact peak (a 50 ms sampler can miss a short spike);
    otherwise this download stayed under an older peak, and the samples are all there is."""
    return max(sampled_max, hwm_after) if hwm_after > hwm_before else sampled_max


class RssWatch(threading.Thread):
    """VmRSS of one process every SAMPLE_INTERVAL, from its start until `finish()`: the largest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.hwm_before = status_kb(pid).get("VmHWM", 0)
        self.before_kb = status_kb(pid).get("VmRSS", 0)
        self.max_kb = self.before_kb
        self.samples = 1
        self._done = threading.Event()

    def sample(self) -> None:
        self.max_kb = max(self.max_kb, status_kb(self.pid).get("VmRSS", 0))
        self.samples += 1

    def run(self) -> None:
        while not self._done.wait(SAMPLE_INTERVAL):
            self.sample()

    def finish(self) -> int:
        """Stop sampling; the peak in kB (see peak_kb)."""
        self._done.set()
        self.join(timeout=5)
        self.sample()
        return peak_kb(self.max_kb, self.hwm_before, status_kb(self.pid).get("VmHWM", 0))


def download(server: LiveServer, token: str, fmt: str, todos: int) -> ExportRow:
    """One streamed export, its body counted and dropped, the worker's RSS watched meanwhile."""
    watch = RssWatch(worker_pids(server.pid)[0])
    watch.start()
    started = time.monotonic()
    size = 0
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", f"{server.url}/todos/export?format={fmt}", headers=headers, timeout=120.0) as response:
        for chunk in response.iter_bytes():
            size += len(chunk)
    seconds = time.monotonic() - started
    peak = watch.finish()
    return ExportRow(
        format=fmt,
        todos=todos,
        status=response.status_code,
        bytes=size,
        wire_bytes=response.num_bytes_downloaded,
        seconds=round(seconds, 2),
        rss_before_mb=watch.before_kb / 1024,
        rss_peak_mb=peak / 1024,
        samples=watch.samples,
    )


def measure_export(server: LiveServer, db_url: str, todos: int) -> list[ExportRow]:
    """Seed the export user, then export every format in turn, the worker idle before each."""
    token = seed_export_user(server, db_url, todos)
    rows = []
    for fmt in FORMATS:
        wait_idle(server)
        try:
            row = download(server, token, fmt, todos)
        except httpx.HTTPError as exc:
            raise SetupError(f"GET /todos/export?format={fmt}: {exc!r}") from None
        log(
            f"export {fmt}: HTTP {row.status}, {row.bytes / 1e6:.1f} MB in {row.seconds:.1f} s; RSS "
            f"{row.rss_before_mb:.1f} -> peak {row.rss_peak_mb:.1f} MB (+{row.growth_mb:.1f}, {row.samples} samples)"
        )
        rows.append(row)
    return rows
