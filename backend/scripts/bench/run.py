"""The benchmark behind backend/scripts/bench.sh (see the README, "Performance").

Starts the app with one uvicorn worker on a fresh database, seeds it through the API,
runs wrk on the issue's scenarios and on a bare FastAPI "ceiling" app served the same
way, then prints one table (requests/s as a fraction of the ceiling) plus the worker's
peak RSS and PASS/FAIL per target, and writes the same as JSON and markdown to
bench-results/. Only ratios from one run mean anything on a shared machine.

Exit status: 0 when the benchmark ran (whatever the targets say), 2 on a setup failure,
130 when interrupted. Everything listens on 127.0.0.1 only; every process started here
is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
LUA_DIR = HERE / "lua"
RESULTS_DIR = REPO / "bench-results"
PYTHON = sys.executable
HOST = "127.0.0.1"
# --loop asyncio, as start.sh and serve.sh run the app: under uvloop a bare FastAPI app at
# 256 connections here had p99 3.3 s and 58 timeouts (some connections starve), with the
# stdlib loop p99 0.1 s and none.
UVICORN_FLAGS = [
    "--workers",
    "1",
    "--loop",
    "asyncio",
    "--no-access-log",
    "--no-proxy-headers",
    "--log-level",
    "warning",
]
HIGH_RATE = "1000000/minute"
PASSWORD = "Tr0ub4dor&3-horse"
THREADS = 2
CONNS = 32
CONNS_HIGH = 256
TIMEOUT = 2
TIMEOUT_HIGH = 5
TODOS_SMALL = 50
TODOS_LARGE = 10_000
SEED_CONCURRENCY = 32
SEED_SECONDS_MAX = 300
SEED_DONE_MARKER = "BENCH_SEED_THREAD_DONE"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", None, ""}

TARGETS_TEXT = "targets are defined for one worker on SQLite (issue 5)"


class SetupError(Exception):
    """The benchmark could not be set up or run; exit status 2."""


class Interrupted(BaseException):
    """SIGINT / SIGTERM / SIGHUP: clean up and leave."""


def log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def out(text: str = "") -> None:
    """The report, on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- processes ----------------------------------------------------------------------------


class Processes:
    """Every child started here, each in its own session so its whole group can be stopped.

    Live pids are mirrored to BENCH_PIDFILE so bench.sh can stop them even if this
    process is killed outright.
    """

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[Any]] = []
        self.pidfile = os.environ.get("BENCH_PIDFILE")

    def _sync(self) -> None:
        self.procs = [p for p in self.procs if p.poll() is None]
        if self.pidfile:
            Path(self.pidfile).write_text("".join(f"{p.pid}\n" for p in self.procs))

    def start(self, args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.procs.append(proc)
        self._sync()
        return proc

    def stop(self, proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            try:
                os.killpg(proc.pid, sig)  # the group led by this child, never anything else
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        self._sync()

    def stop_all(self) -> None:
        for proc in list(self.procs):
            self.stop(proc, grace=5.0)


PROCS = Processes()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[Any]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_server(
    name: str, app_spec: str, env: dict[str, str], log_path: Path, ready_path: str, extra: list[str] | None = None
) -> Server:
    """Start `python -m uvicorn app_spec` on a free loopback port and wait until it answers."""
    for _attempt in range(3):
        port = free_port()
        with log_path.open("ab") as log_file:
            proc = PROCS.start(
                [
                    PYTHON,
                    "-m",
                    "uvicorn",
                    app_spec,
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    *UVICORN_FLAGS,
                    *(extra or []),
                ],
                cwd=REPO,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = Server(name, proc, port, log_path)
        deadline = time.monotonic() + 60
        last = "no answer"
        with httpx.Client(base_url=server.base, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    response = client.get(ready_path)
                    if response.status_code == 200:
                        return server
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.2)
        PROCS.stop(proc)
        if "address already in use" in _tail(log_path).lower():
            continue  # lost the race for the port; try another
        raise SetupError(f"{name} did not become ready on port {port} ({last}); log tail:\n{_tail(log_path)}")
    raise SetupError(f"{name}: no free port after 3 attempts")


# --- memory -------------------------------------------------------------------------------


def _status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return out


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                children = Path(f"/proc/{current}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.append(child)
                    todo.append(child)
    return found


class RssSampler(threading.Thread):
    """Polls VmRSS / VmHWM of a server process and its children; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        total_rss = 0
        for pid in [self.pid, *_descendants(self.pid)]:
            status = _status_kb(pid)
            total_rss += status.get("VmRSS", 0)
            self.peak_kb = max(self.peak_kb, status.get("VmHWM", 0))
        self.peak_kb = max(self.peak_kb, total_rss)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sample()

    def finish(self) -> float:
        """Stop polling (call while the server still runs); the peak in MB."""
        self._stop_event.set()
        self.join(timeout=5)
        self.sample()
        return self.peak_kb / 1024


# --- database -----------------------------------------------------------------------------


@dataclass
class FreshDatabase:
    """A database of our own: a temp SQLite file, or a new database on the --db server."""

    url: str
    label: str
    display: str
    admin_url: str | None = None
    name: str | None = None
    given_url: str | None = None  # the --db URL, password hidden

    def drop(self) -> None:
        if not self.admin_url or not self.name:
            return
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    try:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                    except Exception:  # noqa: BLE001 - PostgreSQL < 13 has no FORCE
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
                else:
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{self.name}`"))
            log(f"dropped database {self.name}")
        finally:
            engine.dispose()


def fresh_database(db_url: str | None, tmpdir: Path) -> FreshDatabase:
    if not db_url:
        path = tmpdir / "bench.db"
        return FreshDatabase(url=f"sqlite:///{path}", label="sqlite", display=f"SQLite (temp file {path})")

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    try:
        url = make_url(db_url)
    except Exception as exc:  # noqa: BLE001
        raise SetupError(f"--db: not a database URL: {exc}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        raise SetupError("--db: leave it out for SQLite (a temp file is used)")
    if backend not in ("postgresql", "mysql", "mariadb"):
        raise SetupError(f"--db: PostgreSQL or MariaDB URL expected, got {backend}")
    if url.host not in LOOPBACK_HOSTS:
        raise SetupError(f"--db: the benchmark runs on 127.0.0.1 only; refusing host {url.host!r}")
    name = f"bench_{datetime.now().strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
            version = conn.dialect.server_version_info
    except Exception as exc:  # noqa: BLE001
        raise SetupError(
            f"--db: could not create a database on {url.render_as_string(hide_password=True)}: {exc}"
        ) from None
    finally:
        engine.dispose()
    new_url = url.set(database=name)
    label = "postgresql" if backend == "postgresql" else "mariadb"
    server = ".".join(map(str, version or ())) or "?"
    log(f"created database {name} on {url.host}:{url.port or ''}")
    return FreshDatabase(
        url=new_url.render_as_string(hide_password=False),
        label=label,
        display=f"{label} {server} ({new_url.render_as_string(hide_password=True)})",
        admin_url=url.render_as_string(hide_password=False),
        name=name,
        given_url=url.render_as_string(hide_password=True),
    )


def analyze(db: FreshDatabase) -> str | None:
    """Refresh the planner statistics of our own database after seeding (PostgreSQL / MariaDB).

    A production server's autovacuum (or InnoDB's automatic statistics) does this shortly
    after a table grows; a freshly seeded table without it can get a plan that reads every
    row of the 10,000-todo user. Returns a note on what the server would have done alone.
    """
    if not db.admin_url:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()
                conn.execute(text("ANALYZE"))
                return f"ANALYZE run after seeding (this server has autovacuum={autovacuum})"
            conn.execute(text("ANALYZE TABLE users, todos"))
            auto = conn.execute(text("SELECT @@innodb_stats_auto_recalc")).scalar_one()
            return f"ANALYZE TABLE run after seeding (innodb_stats_auto_recalc={auto})"
    finally:
        engine.dispose()


def app_env(db: FreshDatabase, log_level: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        ENVIRONMENT="production",
        DATABASE_URL=db.url,
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_LEVEL=log_level,
        REDIS_URL="",
        FORWARDED_ALLOW_IPS="",
        ACCESS_TOKEN_EXPIRE_MINUTES="120",
        PYTHONUNBUFFERED="1",
    )
    for name in rate_limit_settings():
        env[name] = HIGH_RATE
    return env


def rate_limit_settings() -> list[str]:
    """Every RATE_LIMIT_* setting the app knows (read from the Settings model)."""
    known = ["RATE_LIMIT_LOGIN", "RATE_LIMIT_LOGIN_IP", "RATE_LIMIT_REGISTER"]
    try:
        sys.path.insert(0, str(REPO))
        from backend.core.config import Settings

        known = sorted({*known, *(n for n in Settings.model_fields if n.startswith("RATE_LIMIT_"))})
    except Exception as exc:  # noqa: BLE001 - fall back to the documented three
        log(f"could not read the Settings model ({exc}); setting the documented RATE_LIMIT_* only")
    finally:
        if sys.path and sys.path[0] == str(REPO):
            sys.path.pop(0)
    return known


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "alembic", "upgrade", "head"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SetupError(f"alembic upgrade head failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


# --- seeding through the API --------------------------------------------------------------


def todo_body(n: int, who: str) -> dict[str, Any]:
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
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(client: httpx.AsyncClient, queue: list[int], pending: list[int]) -> None:
        nonlocal created
        while queue:
            n = queue.pop()
            try:
                response = await client.post("/todos/todos", json=todo_body(n, who))
            except httpx.HTTPError as exc:
                pending.append(n)
                failures.append(repr(exc))
                continue
            if response.status_code == 201:
                created += 1
            else:
                pending.append(n)
                failures.append(f"HTTP {response.status_code} {response.text[:200]}")

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
    sc = Scenario(
        "seed", f"seed user {who}", "seed.lua", "/todos/todos", token=token, conns=SEED_CONCURRENCY, timeout=10
    )
    env = {"BENCH_SEED_TOTAL": str(count), "BENCH_SEED_THREADS": str(THREADS)}
    result = run_wrk(base, sc, SEED_SECONDS_MAX, raw_log, extra_env=env)
    created = int(result.get("seed_created", 0))
    have = count_todos(base, token)
    if have is None:
        log("no X-Total-Count on GET /todos/: trusting wrk's count of 201 responses")
        have = created
    detail = f"wrk: {created:,} created, {result['status']} non-2xx, {result['timeout']} timeouts"
    problem = None
    if result["status"] or result["timeout"] or result["connect"] or result["read"] or result["write"]:
        problem = (
            f"seeding {count:,} todos with wrk POST at -c{SEED_CONCURRENCY}: {result['status']} responses >= 400, "
            f"{result['timeout']} timeouts, {result['connect'] + result['read'] + result['write']} other socket errors"
        )
    if have < count:
        log(f"seeding {who}: {have:,} of {count:,} after wrk ({detail}); topping up with httpx")
        failures = seed_parallel(base, token, who, count - have)
        if failures:
            distinct = sorted(set(failures))
            detail += f"; top-up retried {len(failures):,} failed POSTs"
            problem = (
                problem or "seeding"
            ) + f"; httpx top-up: {len(failures):,} failed POSTs ({'; '.join(distinct[:3])})"
        have = count_todos(base, token) or count
    if have != count:
        raise SetupError(f"seeding {who}: the API reports {have:,} todos, {count:,} expected ({detail})")
    return detail, problem


# --- scenarios and wrk --------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    title: str
    lua: str
    path: str
    expect: int = 200
    token: str | None = None
    ids: list[int] = field(default_factory=list)
    conns: int = CONNS
    timeout: int = TIMEOUT


@dataclass
class Row:
    key: str
    title: str
    conns: int
    timeout_s: int
    duration_s: int
    drain_s: float  # how long the server stayed busy after wrk stopped
    stalled: bool  # fewer responses than connections: some connection never got an answer
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    timeouts: int
    connect_errors: int
    read_errors: int
    write_errors: int
    preflight_status: int | None
    preflight_ok: bool
    fraction_of_ceiling: float | None = None


def preflight(base: str, sc: Scenario) -> int | None:
    """One request shaped like the scenario's; its status (None if it failed outright)."""
    headers = {"Authorization": f"Bearer {sc.token}"} if sc.token else {}
    path = sc.path
    try:
        with httpx.Client(base_url=base, timeout=10.0, follow_redirects=False) as client:
            if sc.lua == "get_rotate.lua":
                response = client.get(f"/todos/{sc.ids[0]}", headers=headers)
            elif sc.lua == "put_rotate.lua":
                body = {
                    "title": "Preflight update",
                    "description": "bench.sh",
                    "priority": 2,
                    "complete": False,
                    "due_date": "2031-01-01",
                }
                response = client.put(f"/todos/todo/{sc.ids[0]}", json=body, headers=headers)
            elif sc.lua == "post.lua":
                response = client.post(path, json=todo_body(0, "preflight"), headers=headers)
            else:
                response = client.get(path, headers=headers)
    except httpx.HTTPError as exc:
        log(f"preflight {sc.key}: {exc!r}")
        return None
    if response.status_code != sc.expect:
        log(f"preflight {sc.key}: expected HTTP {sc.expect}, got {response.status_code}: {response.text[:300]}")
    return response.status_code


def run_wrk(
    base: str, sc: Scenario, seconds: int, raw_log: Path | None, extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{THREADS}",
        f"-c{sc.conns}",
        f"-d{seconds}s",
        "--timeout",
        f"{sc.timeout}s",
        "--latency",
        "-s",
        str(LUA_DIR / sc.lua),
    ]
    if sc.token:
        cmd += ["-H", f"Authorization: Bearer {sc.token}"]
    cmd.append(base + sc.path)
    env = {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), "BENCH_IDS": ",".join(map(str, sc.ids)), **(extra_env or {})}
    proc = PROCS.start(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    err_lines: list[str] = []
    finished = threading.Event()

    def read_stderr() -> None:
        # seed.lua says when each thread is done; wrk itself only ends after -d or on SIGINT.
        assert proc.stderr is not None
        done_threads = 0
        for line in proc.stderr:
            if line.startswith(SEED_DONE_MARKER):
                done_threads += 1
                if done_threads >= THREADS:
                    threading.Thread(target=interrupt, daemon=True).start()
                continue
            err_lines.append(line)

    def interrupt() -> None:
        while proc.poll() is None and not finished.is_set():
            try:
                os.kill(proc.pid, signal.SIGINT)  # wrk stops early and prints its results
            except ProcessLookupError:
                return
            finished.wait(1.0)  # again if it came before wrk installed its handler

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    watchdog = threading.Timer(seconds + 30, lambda: PROCS.stop(proc))
    watchdog.start()
    try:
        out = proc.stdout.read()
        proc.wait()
    finally:
        finished.set()
        watchdog.cancel()
        reader.join(timeout=5)
        PROCS._sync()
    err = "".join(err_lines)
    if proc.returncode < 0:
        raise SetupError(f"wrk for {sc.key} was killed (signal {-proc.returncode}; limit {seconds + 30} s):\n{err}")
    if raw_log is not None:
        with raw_log.open("a") as fh:
            shown = [c if not c.startswith("Authorization:") else "Authorization: Bearer ..." for c in cmd]
            fh.write(f"$ {' '.join(shown)}\n{out}{err}\n")
    result: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("BENCH_SEED_CREATED "):
            result["seed_created"] = int(line.split()[1])
        if line.startswith("BENCH_JSON "):
            result.update(json.loads(line.removeprefix("BENCH_JSON ")))
    if "requests" in result:
        return result
    raise SetupError(f"wrk for {sc.key} printed no result (exit {proc.returncode}):\n{out}\n{err}")


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def wait_idle(server: Server, limit: float = 20.0) -> float:
    """Wait until the server has drained what wrk left in flight (it keeps working on requests
    whose client has gone), so one run's backlog does not land in the next one's numbers.
    Idle = under 10% of a CPU over two 0.25 s windows in a row. Returns the seconds waited."""
    hz = os.sysconf("SC_CLK_TCK")
    window = 0.25
    started = time.monotonic()
    quiet = 0
    last = _cpu_ticks([server.proc.pid, *_descendants(server.proc.pid)])
    while time.monotonic() - started < limit and server.proc.poll() is None:
        time.sleep(window)
        now = _cpu_ticks([server.proc.pid, *_descendants(server.proc.pid)])
        quiet = quiet + 1 if (now - last) / hz < 0.10 * window else 0
        last = now
        if quiet >= 2:
            return time.monotonic() - started
    log(f"{server.name} still busy {limit:.0f} s after wrk stopped")
    return time.monotonic() - started


def measure(server: Server, sc: Scenario, seconds: int, warmup: int, raw_log: Path) -> Row:
    base = server.base
    # wrk only notices a timed-out request on a check every 2 s, so a run must outlast the
    # client timeout by that much for "zero timeouts" to mean anything.
    seconds = max(seconds, sc.timeout + 2)
    status = preflight(base, sc)
    log(f"{sc.key}: warm-up {warmup} s, then {seconds} s at -c{sc.conns}")
    run_wrk(base, sc, warmup, None)
    wait_idle(server)
    result = run_wrk(base, sc, seconds, raw_log)
    drained_s = wait_idle(server)
    socket_errors = result["connect"] + result["read"] + result["write"] + result["timeout"]
    row = Row(
        key=sc.key,
        title=sc.title,
        conns=sc.conns,
        timeout_s=sc.timeout,
        duration_s=seconds,
        drain_s=round(drained_s, 2),
        stalled=result["requests"] < sc.conns,
        rps=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p90_ms=result["p90_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        max_ms=result["max_us"] / 1000,
        requests=result["requests"],
        non_2xx=result["status"],
        socket_errors=socket_errors,
        timeouts=result["timeout"],
        connect_errors=result["connect"],
        read_errors=result["read"],
        write_errors=result["write"],
        preflight_status=status,
        preflight_ok=status == sc.expect,
    )
    log(
        f"{sc.key}: {row.rps:,.0f} req/s, p50 {row.p50_ms:.2f} ms, p99 {row.p99_ms:.2f} ms, "
        f"non-2xx {row.non_2xx}, socket errors {row.socket_errors}"
        + (f"; STALLED: {row.requests} responses on {sc.conns} connections" if row.stalled else "")
    )
    return row


# --- report -------------------------------------------------------------------------------


def evaluate(rows: dict[str, Row], rss_mb: float) -> list[dict[str, Any]]:
    def frac(key: str) -> float:
        return rows[key].fraction_of_ceiling or 0.0

    targets: list[dict[str, Any]] = []

    def add(name: str, ok: bool, value: str) -> None:
        targets.append({"target": name, "pass": bool(ok), "value": value})

    for key, name, need in (
        ("list50", "list of 50 >= 0.15 x ceiling", 0.15),
        ("one", "one todo >= 0.25 x ceiling", 0.25),
        ("create", "create >= 0.10 x ceiling", 0.10),
        ("update", "update >= 0.10 x ceiling", 0.10),
    ):
        add(name, frac(key) >= need, f"{frac(key):.3f}")

    at32 = [r for r in rows.values() if r.conns == CONNS and not r.key.startswith("ceiling")]
    worst = max(at32, key=lambda r: r.p99_ms / r.p50_ms if r.p50_ms else float("inf"))
    worst_ratio = worst.p99_ms / worst.p50_ms if worst.p50_ms else float("inf")
    add("p99 <= 10 x p50 at 32 connections (rows 1-5)", worst_ratio <= 10, f"worst {worst_ratio:.1f}x ({worst.key})")

    bad = [r for r in at32 if r.non_2xx or r.socket_errors or r.stalled or not r.preflight_ok]
    add(
        "zero non-2xx and socket errors at 32 connections",
        not bad,
        "none"
        if not bad
        else ", ".join(
            f"{r.key} {r.non_2xx}/{r.socket_errors}"
            + ("" if r.preflight_ok else f" (preflight HTTP {r.preflight_status})")
            + (" STALLED" if r.stalled else "")
            for r in bad
        )
        + " (non-2xx/socket)",
    )

    high = rows["list50_c256"]
    ok = not (high.non_2xx or high.socket_errors or high.timeouts or high.stalled) and high.preflight_ok
    add(
        "256 connections: zero non-2xx, socket errors, timeouts (5 s)",
        ok,
        f"{high.non_2xx} non-2xx, {high.socket_errors} socket errors ({high.timeouts} timeouts)"
        + (", STALLED" if high.stalled else "")
        + (f"; bare ceiling: {rows['ceiling_c256'].socket_errors}" if "ceiling_c256" in rows else ""),
    )

    ratio = rows["list10k"].rps / rows["list50"].rps if rows["list50"].rps else 0.0
    add("10,000-todo list >= 0.8 x 50-todo list", ratio >= 0.8, f"{ratio:.2f}")
    add("peak RSS <= 150 MB", rss_mb <= 150, f"{rss_mb:.1f} MB")
    return targets


def _fmt_frac(value: float | None) -> str:
    return "1.000" if value is None else f"{value:.3f}"


def results_table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    header = ["#", "scenario", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "socket errors (timeouts)", "x ceiling"]
    body = []
    numbers = {"ceiling_start": "7a", "ceiling_end": "7b", "ceiling_c256": "7c"}
    for n, r in enumerate(rows, 1):
        non2xx = str(r.non_2xx) + ("" if r.preflight_ok else f" (preflight HTTP {r.preflight_status})")
        body.append(
            [
                numbers.get(r.key, str(n)),
                r.title,
                str(r.conns),
                f"{r.rps:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                non2xx,
                f"{r.socket_errors} ({r.timeouts})" + (" STALLED" if r.stalled else ""),
                _fmt_frac(r.fraction_of_ceiling),
            ]
        )
    return header, body


def text_table(header: list[str], body: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in body)])


def md_table(header: list[str], body: list[list[str]], right: set[int]) -> str:
    sep = ["---:" if i in right else "---" for i in range(len(header))]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, sep, *body])


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine_info() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    wrk_version = ""
    try:
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk_version.split(" [")[0],
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def _log_key(line: str) -> str:
    """What a log line says, without its time and request id (JSON lines), to group repeats."""
    try:
        record = json.loads(line)
    except ValueError:
        return line.strip()[:300]
    if not isinstance(record, dict):
        return line.strip()[:300]
    return " ".join(str(record.get(k, "")) for k in ("level", "logger", "message", "exc_info", "exception"))[:300]


def log_problems(path: Path) -> dict[str, Any]:
    """Count the app log's error and warning lines (whatever its format); the most common kinds."""
    errors = warnings = 0
    kinds: dict[str, int] = {}
    try:
        with path.open(errors="replace") as fh:
            for line in fh:
                if re.search(r"ERROR|CRITICAL|Traceback", line):
                    errors += 1
                elif "WARNING" in line:
                    warnings += 1
                else:
                    continue
                key = _log_key(line)
                kinds[key] = kinds.get(key, 0) + 1
    except OSError:
        pass
    common = sorted(kinds.items(), key=lambda item: -item[1])[:5]
    return {"error_lines": errors, "warning_lines": warnings, "sample": [f"{n} x {key}" for key, n in common]}


def save_log(source: Path, dest: Path) -> None:
    """Keep a server log (it can be tens of MB at LOG_LEVEL=INFO) gzipped in bench-results/."""
    try:
        if source.exists() and source.stat().st_size:
            with source.open("rb") as src, gzip.open(dest, "wb", compresslevel=6) as out:
                shutil.copyfileobj(src, out)
    except OSError as exc:
        log(f"could not save {source} to {dest}: {exc}")


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        metavar="URL",
        help="PostgreSQL or MariaDB server URL on 127.0.0.1; a fresh "
        "database is created on it and dropped afterwards (default: a temp SQLite file)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        metavar="SECONDS",
        help="seconds per scenario (default 10; never less than wrk's --timeout + 2 s, "
        "so that a timed-out request can be seen)",
    )
    parser.add_argument("--quick", action="store_true", help="--duration 3 with a 1 s warm-up, for smoke runs")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="the app's LOG_LEVEL (default INFO); the app log goes to bench-results/",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="with --db: skip the ANALYZE of the fresh database after seeding (as if autovacuum had not run yet)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 3
    if args.duration < 1:
        parser.error("--duration must be at least 1")
    return args


def _on_signal(signum: int, _frame: Any) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # once is enough: let the clean-up run
    raise Interrupted(signal.Signals(signum).name)


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    args = parse_args(argv)
    if not shutil.which("wrk"):
        log("wrk not found (bench.sh installs it)")
        return 2
    warmup = 1 if args.duration <= 3 else 2
    load_start = loadavg()
    started = datetime.now(UTC)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tmpdir = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    app_log, ceiling_log = tmpdir / "app.log", tmpdir / "ceiling.log"
    saved_logs: list[tuple[Path, Path]] = []
    db: FreshDatabase | None = None
    try:
        RESULTS_DIR.mkdir(exist_ok=True)
        db = fresh_database(args.db, tmpdir)
        prefix = RESULTS_DIR / f"bench-{stamp}-{db.label}"
        saved_logs = [(app_log, Path(f"{prefix}-app.log.gz")), (ceiling_log, Path(f"{prefix}-ceiling.log.gz"))]
        raw_log = Path(f"{prefix}-wrk.txt")
        env = app_env(db, args.log_level)
        log(f"database: {db.display}")
        log("migrating (alembic upgrade head)")
        migrate(env)

        # The ceiling is measured at the start and again at the end of the run; the app's
        # rows are divided by the mean, and a large gap between the two says the machine's
        # load changed under the run. Its server idles in between.
        ceiling = start_server(
            "ceiling", "ceiling:app", os.environ.copy(), ceiling_log, "/", extra=["--app-dir", str(HERE)]
        )
        ceiling_sampler = RssSampler(ceiling.proc.pid)
        ceiling_sampler.start()
        ceiling_sc = Scenario("ceiling_start", "ceiling: bare FastAPI async GET (start)", "get.lua", "/")
        rows: dict[str, Row] = {"ceiling_start": measure(ceiling, ceiling_sc, args.duration, warmup, raw_log)}

        app = start_server("app", "backend.main:app", env, app_log, "/health")
        log(f"app up on {app.base} (pid {app.proc.pid})")
        sampler = RssSampler(app.proc.pid)
        sampler.start()

        suffix = secrets.token_hex(3)
        with httpx.Client(base_url=app.base, timeout=30.0) as client:
            token_a = register_and_login(client, f"bench_a_{suffix}")
            token_b = register_and_login(client, f"bench_b_{suffix}")
            token_c = register_and_login(client, f"bench_c_{suffix}")
            ids_a = seed_sequential(client, token_a, "A", TODOS_SMALL)
        log(f"seeding user B with {TODOS_LARGE:,} todos (wrk POST, {SEED_CONCURRENCY} in flight)")
        t0 = time.monotonic()
        seed_detail, seed_problem = seed_large(app.base, token_b, "B", TODOS_LARGE, raw_log)
        seed_seconds = time.monotonic() - t0
        log(f"seeded B in {seed_seconds:.1f} s ({TODOS_LARGE / seed_seconds:,.0f} todos/s; {seed_detail})")
        analyzed = None
        if args.analyze:
            try:
                analyzed = analyze(db)
            except Exception as exc:  # noqa: BLE001
                raise SetupError(f"ANALYZE after seeding failed: {exc}") from None
            if analyzed:
                log(analyzed)
        wait_idle(app)

        scenarios = [
            Scenario("list50", "GET /todos/?limit=50 (50 todos)", "get.lua", "/todos/?limit=50", token=token_a),
            Scenario(
                "one", "GET /todos/{id} (rotating over 50)", "get_rotate.lua", "/todos/", token=token_a, ids=ids_a
            ),
            Scenario("create", "POST /todos/todos", "post.lua", "/todos/todos", expect=201, token=token_c),
            Scenario(
                "update",
                "PUT /todos/todo/{id} (rotating over 50)",
                "put_rotate.lua",
                "/todos/todo/",
                token=token_a,
                ids=ids_a,
            ),
            Scenario("list10k", "GET /todos/?limit=50 (10,000 todos)", "get.lua", "/todos/?limit=50", token=token_b),
            Scenario(
                "list50_c256",
                "GET /todos/?limit=50 (50 todos), 256 conns",
                "get.lua",
                "/todos/?limit=50",
                token=token_a,
                conns=CONNS_HIGH,
                timeout=TIMEOUT_HIGH,
            ),
        ]
        # Reads first, writes last (the table keeps the order): thousands of writes
        # grow the WAL and the database, which would tilt the 50-vs-10,000 comparison.
        for sc in sorted(scenarios, key=lambda sc: sc.key in ("create", "update")):
            if app.proc.poll() is not None:
                raise SetupError(f"the app exited (status {app.proc.returncode}); log tail:\n{_tail(app_log)}")
            rows[sc.key] = measure(app, sc, args.duration, warmup, raw_log)
        rss_mb = sampler.finish()
        app_alive = app.proc.poll() is None
        PROCS.stop(app.proc)
        log(f"app stopped; peak RSS {rss_mb:.1f} MB")

        ceiling_sc = Scenario("ceiling_end", "ceiling: bare FastAPI async GET (end)", "get.lua", "/")
        rows["ceiling_end"] = measure(ceiling, ceiling_sc, args.duration, warmup, raw_log)
        # A control for row 6: the bare app at 256 connections on this machine right now.
        ceiling_sc = Scenario(
            "ceiling_c256",
            "ceiling at 256 conns (control for row 6)",
            "get.lua",
            "/",
            conns=CONNS_HIGH,
            timeout=TIMEOUT_HIGH,
        )
        rows["ceiling_c256"] = measure(ceiling, ceiling_sc, args.duration, warmup, raw_log)
        ceiling_rss = ceiling_sampler.finish()
        PROCS.stop(ceiling.proc)
        load_end = loadavg()

        ceiling_rps = (rows["ceiling_start"].rps + rows["ceiling_end"].rps) / 2
        for row in rows.values():
            row.fraction_of_ceiling = row.rps / ceiling_rps if ceiling_rps else 0.0
        ceiling_gap = abs(rows["ceiling_start"].rps - rows["ceiling_end"].rps) / ceiling_rps if ceiling_rps else 0.0
        targets = evaluate(rows, rss_mb)

        ordered = [rows[sc.key] for sc in scenarios] + [
            rows[k] for k in ("ceiling_start", "ceiling_end", "ceiling_c256")
        ]
        header, body = results_table(ordered)
        right = {0, 2, 3, 4, 5, 6, 7, 8}
        theader = ["target", "value", "result"]
        tbody = [[t["target"], t["value"], "PASS" if t["pass"] else "FAIL"] for t in targets]
        info = machine_info()
        title = (
            f"{db.label}, one uvicorn worker, wrk -t{THREADS} -c{CONNS} --timeout {TIMEOUT}s "
            f"-d{rows['list50'].duration_s}s (row 6: -c{CONNS_HIGH} --timeout {TIMEOUT_HIGH}s "
            f"-d{rows['list50_c256'].duration_s}s), {warmup} s warm-up each, {started.strftime('%Y-%m-%d %H:%M UTC')}"
        )
        machine = (
            f"{info['cpus']} CPUs ({info['cpu']}), {info['memory_gb']} GB, Python {info['python']}, "
            f"{info['wrk']}, commit {info['git_commit'] or '?'}{' + local changes' if info['git_dirty'] else ''}; "
            f"load average {load_start} at the start, {load_end} at the end"
        )
        notes = [
            f"peak RSS of the app worker: {rss_mb:.1f} MB (ceiling app: {ceiling_rss:.1f} MB)",
            "non-2xx: wrk's count of responses with status >= 400; each scenario's exact status is checked "
            "with one request first",
            f"PASS/FAIL: {TARGETS_TEXT}" + ("" if db.label == "sqlite" else "; shown here for reference"),
            "only ratios within one run mean anything; absolute numbers move with the machine's load",
            f"x ceiling: requests/s over the mean of the two ceiling runs ({ceiling_rps:,.0f} req/s; "
            f"they differ by {ceiling_gap:.0%})",
        ]
        if ceiling_gap > 0.15:
            notes.append(
                f"WARNING: the ceiling moved by {ceiling_gap:.0%} between the start and the end of the run: the "
                "machine's load changed while it ran, so these ratios are unreliable; rerun on a quieter machine"
            )
        slow_drain = [f"{r.key} {r.drain_s:.1f} s" for r in ordered if r.drain_s > 1.0]
        if slow_drain:
            notes.append(
                "the server stayed busy after wrk stopped (requests abandoned by the client still being "
                "worked on): " + ", ".join(slow_drain)
            )
        if analyzed:
            notes.append(f"planner statistics: {analyzed}")
        elif db.admin_url:
            notes.append("planner statistics: --no-analyze, the tables were not analyzed after seeding")
        if seed_problem:
            notes.append(f"APP PROBLEM while seeding user B: {seed_problem}")
        if not app_alive:
            notes.append("the app had exited before it was stopped: see the app log")
        problems = log_problems(app_log)
        notes.append(
            f"app log: {problems['error_lines']} ERROR/CRITICAL/Traceback lines, "
            f"{problems['warning_lines']} WARNING lines" + "".join(f"\n  {line}" for line in problems["sample"])
        )

        out()
        out(title)
        out(machine)
        out()
        out(text_table(header, body, right))
        out()
        out(f"peak RSS (app worker): {rss_mb:.1f} MB")
        out()
        out(text_table(theader, tbody, set()))
        out()
        for note in notes[1:]:
            out(f"note: {note}")

        markdown = "\n".join(
            [
                f"### Benchmark: {title}",
                "",
                machine,
                "",
                md_table(header, body, right),
                "",
                f"Peak RSS of the app worker: **{rss_mb:.1f} MB**",
                "",
                md_table(theader, tbody, set()),
                "",
                *(f"- {note}" for note in notes),
                "",
                "Reproduce: `backend/scripts/bench.sh"
                + (f" --db '{db.given_url}'" if db.given_url else "")
                + ("" if args.analyze else " --no-analyze")
                + (" --quick" if args.quick else "" if args.duration == 10 else f" --duration {args.duration}")
                + "`",
                "",
            ]
        )
        Path(f"{prefix}.md").write_text(markdown)
        report = {
            "started": started.isoformat(),
            "database": db.display,
            "database_kind": db.label,
            "duration_s": args.duration,
            "warmup_s": warmup,
            "wrk": {"threads": THREADS, "connections": CONNS, "timeout_s": TIMEOUT},
            "seed": {
                "user_a_todos": TODOS_SMALL,
                "user_b_todos": TODOS_LARGE,
                "user_b_seconds": round(seed_seconds, 2),
                "user_b_detail": seed_detail,
                "problem": seed_problem,
            },
            "machine": info,
            "ceiling_rps": round(ceiling_rps, 1),
            "ceiling_gap": round(ceiling_gap, 3),
            "load_average": {"start": load_start, "end": load_end},
            "rows": [asdict(r) for r in ordered],
            "peak_rss_mb": round(rss_mb, 1),
            "ceiling_peak_rss_mb": round(ceiling_rss, 1),
            "targets": targets,
            "notes": notes,
        }
        Path(f"{prefix}.json").write_text(json.dumps(report, indent=2) + "\n")
        out(
            f"\nwritten: {Path(f'{prefix}.json').relative_to(REPO)}, {Path(f'{prefix}.md').relative_to(REPO)}"
            f" (app log {saved_logs[0][1].relative_to(REPO)}, raw wrk output {raw_log.relative_to(REPO)})"
        )
        return 0
    except SetupError as exc:
        log(f"SETUP FAILED: {exc}")
        return 2
    except (Interrupted, KeyboardInterrupt) as exc:
        log(f"interrupted ({exc}); cleaning up")
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        PROCS.stop_all()
        for source, dest in saved_logs:
            save_log(source, dest)
        if db is not None:
            try:
                db.drop()
            except Exception as exc:  # noqa: BLE001
                log(f"could not drop database {db.name}: {exc}")
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
