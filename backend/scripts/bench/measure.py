"""One scenario measured into one table row: a preflight request, a warm-up, the timed run,
the drain, and the CPU seconds every process of interest used during the timed run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median

import httpx

from backend.scripts.bench.common import log
from backend.scripts.bench.processes import HZ, cpu_ticks, machine_busy_ticks, pids_named, wait_idle, worker_pids
from backend.scripts.bench.scenarios import Scenario
from backend.scripts.bench.seeding import Users, todo_body
from backend.scripts.bench.wrk import WrkJob, WrkResult, run_wrk
from backend.test.live import LiveServer


@dataclass
class Row:
    """What one scenario measured; `scenario` says which row of the table it is."""

    scenario: Scenario
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
    cpu_app_s: list[float] = field(default_factory=list)  # the server's processes, supervisor first
    cpu_wrk_s: float = 0.0
    cpu_db_s: float | None = None  # every process of the database server (None for SQLite)
    cpu_machine_s: float = 0.0  # busy CPU time of the whole machine, anyone's
    fraction_of_ceiling: float | None = None

    def as_json(self) -> dict[str, object]:
        """The row as bench-results' JSON has it: the scenario's identity, then the figures."""
        sc = self.scenario
        figures = asdict(self)
        del figures["scenario"]
        identity = {"key": sc.key, "number": sc.number, "title": sc.title, "server": sc.server}
        return {**identity, "conns": sc.conns, "timeout_s": sc.timeout, **figures}


@dataclass
class Run:
    """What every measurement of one run shares (`users` once seeding is done)."""

    seconds: int
    warmup: int
    raw_log: Path
    users: Users | None
    db_process_names: tuple[str, ...]


class CpuWindow:
    """CPU ticks of the server's processes, the database server and the machine, from now on."""

    def __init__(self, server: LiveServer, db_process_names: tuple[str, ...]) -> None:
        workers = worker_pids(server.pid)
        self.app_pids = workers if workers == [server.pid] else [server.pid, *workers]
        self.db_names = db_process_names
        self.start = {pid: cpu_ticks(pid) for pid in self.app_pids}
        self.db_start = {pid: cpu_ticks(pid, reaped_children=True) for pid in self._db_pids()}
        self.machine = machine_busy_ticks()

    def _db_pids(self) -> list[int]:
        return pids_named(*self.db_names) if self.db_names else []

    def used(self, pid: int) -> float:
        return max(cpu_ticks(pid) - self.start.get(pid, 0), 0) / HZ

    def db_used(self) -> float:
        """The database server's CPU seconds since the start. A backend that started since
        counts whole; one that ended counts through its parent's reaped-children time (also
        whole, so a backend that began before the window and ended in it is over-counted)."""
        ticks = (cpu_ticks(pid, reaped_children=True) - self.db_start.get(pid, 0) for pid in self._db_pids())
        return sum(max(t, 0) for t in ticks) / HZ

    def finish(self, row: Row) -> None:
        row.cpu_app_s = [round(self.used(pid), 2) for pid in self.app_pids]
        row.cpu_db_s = round(self.db_used(), 2) if self.db_names else None
        row.cpu_machine_s = round((machine_busy_ticks() - self.machine) / HZ, 2)


def _job(server: LiveServer, sc: Scenario, users: Users | None) -> WrkJob:
    token = users.tokens[sc.user] if users and sc.user else None
    ids = users.ids.get(sc.user, []) if users and sc.user and sc.rotate else []
    return WrkJob(sc.key, server.url, sc.path, sc.lua, sc.conns, sc.timeout, token=token, ids=ids)


def preflight(job: WrkJob, expect: int) -> int | None:
    """One request shaped like the scenario's; its status (None if it failed outright)."""
    headers = {"Authorization": f"Bearer {job.token}"} if job.token else {}
    body = {"title": "Preflight update", "description": "bench.sh", "priority": 2, "complete": False}
    try:
        with httpx.Client(base_url=job.base, timeout=10.0, follow_redirects=False, headers=headers) as client:
            if job.lua == "get_rotate.lua":
                response = client.get(f"/todos/{job.ids[0]}")
            elif job.lua == "put_rotate.lua":
                response = client.put(f"/todos/todo/{job.ids[0]}", json={**body, "due_date": "2031-01-01"})
            elif job.lua == "post.lua":
                response = client.post(job.path, json=todo_body(0, "preflight"))
            else:
                response = client.get(job.path)
    except httpx.HTTPError as exc:
        log(f"preflight {job.key}: {exc!r}")
        return None
    if response.status_code != expect:
        log(f"preflight {job.key}: expected HTTP {expect}, got {response.status_code}: {response.text[:300]}")
    return response.status_code


def _row(sc: Scenario, seconds: int, drained_s: float, result: WrkResult, status: int | None) -> Row:
    return Row(
        scenario=sc,
        duration_s=seconds,
        drain_s=round(drained_s, 2),
        stalled=result.requests < sc.conns,
        rps=result.requests / (result.duration_us / 1e6),
        p50_ms=result.p50_us / 1000,
        p90_ms=result.p90_us / 1000,
        p99_ms=result.p99_us / 1000,
        max_ms=result.max_us / 1000,
        requests=result.requests,
        non_2xx=result.status,
        socket_errors=result.socket_errors,
        timeouts=result.timeout,
        connect_errors=result.connect,
        read_errors=result.read,
        write_errors=result.write,
        preflight_status=status,
        preflight_ok=status == sc.expect,
        cpu_wrk_s=round(result.cpu_s, 2),
    )


def _warm(server: LiveServer, sc: Scenario, run: Run, timed: str) -> tuple[WrkJob, int | None]:
    """The scenario's wrk job after its preflight request and warm-up (and that request's status)."""
    job = _job(server, sc, run.users)
    status = preflight(job, sc.expect)
    log(f"{sc.key}: warm-up {run.warmup} s, then {timed} at -c{sc.conns}")
    run_wrk(job, run.warmup, None)
    return job, status


def _seconds(sc: Scenario, seconds: int) -> int:
    # wrk only notices a timed-out request on a check every 2 s, so a run must outlast the
    # client timeout by that much for "zero timeouts" to mean anything.
    return max(seconds, sc.timeout + 2)


def _timed(server: LiveServer, sc: Scenario, run: Run, job: WrkJob, seconds: int, status: int | None) -> Row:
    """One timed wrk run on an idle server, with the CPU every process used during it."""
    wait_idle(server)
    cpu = CpuWindow(server, run.db_process_names)
    result = run_wrk(job, seconds, run.raw_log)
    row = _row(sc, seconds, 0.0, result, status)
    cpu.finish(row)  # before the drain: the CPU of the timed run only
    row.drain_s = round(wait_idle(server), 2)
    return row


def _logged(row: Row) -> Row:
    sc = row.scenario
    log(
        f"{sc.key}: {row.rps:,.0f} req/s, p50 {row.p50_ms:.2f} ms, p99 {row.p99_ms:.2f} ms, "
        f"non-2xx {row.non_2xx}, socket errors {row.socket_errors}; CPU s app {sum(row.cpu_app_s):.1f}, "
        f"wrk {row.cpu_wrk_s:.1f}"
        + (f"; STALLED: {row.requests} responses on {sc.conns} connections" if row.stalled else "")
    )
    return row


def measure_wrk(server: LiveServer, sc: Scenario, run: Run) -> Row:
    seconds = _seconds(sc, run.seconds)
    job, status = _warm(server, sc, run, f"{seconds} s")
    return _logged(_timed(server, sc, run, job, seconds, status))


# Mirrored rounds per compared row: A B B A, twice, so four slices each.
ROUNDS = 2


def mirrored_order(count: int, rounds: int = ROUNDS) -> list[int]:
    """The order of the slices of `count` rows measured against each other: 0 1 1 0 0 1 1 0."""
    forward = list(range(count))
    return (forward + forward[::-1]) * rounds


def measure_mirrored(pairs: list[tuple[LiveServer, Scenario]], run: Run) -> list[Row]:
    """Rows compared with each other (tracing off and never installed), each measured in
    four slices in mirrored order (A B B A A B B A) and given the median slice's rate.

    Back to back, each 10 s run took whatever the machine's speed did meanwhile, and two
    runs of the same code differed by up to 8% here, one by half. Mirrored, a steady
    drift weighs on both rows alike; the median leaves out one slice slowed by a burst
    of other work."""
    slices = 2 * ROUNDS
    seconds = [_seconds(sc, -(-run.seconds // slices)) for _, sc in pairs]
    plans = [f"{slices} x {s} s, mirrored" for s in seconds]
    warmed = [_warm(server, sc, run, plan) for (server, sc), plan in zip(pairs, plans, strict=True)]
    timed: list[list[Row]] = [[] for _ in pairs]
    for i in mirrored_order(len(pairs)):
        (server, sc), (job, status) = pairs[i], warmed[i]
        timed[i].append(_timed(server, sc, run, job, seconds[i], status))
    return [_logged(merge(rows)) for rows in timed]


def merge(rows: list[Row]) -> Row:
    """One row from timed slices of the same scenario: the median slice's requests/s and
    latency percentiles, the worst maximum, counts and CPU added up."""
    first = rows[0]
    db = [r.cpu_db_s for r in rows if r.cpu_db_s is not None]
    return Row(
        scenario=first.scenario,
        duration_s=sum(r.duration_s for r in rows),
        drain_s=max(r.drain_s for r in rows),
        stalled=any(r.stalled for r in rows),
        rps=median(r.rps for r in rows),
        p50_ms=median(r.p50_ms for r in rows),
        p90_ms=median(r.p90_ms for r in rows),
        p99_ms=median(r.p99_ms for r in rows),
        max_ms=max(r.max_ms for r in rows),
        requests=sum(r.requests for r in rows),
        **{name: sum(getattr(r, name) for r in rows) for name in COUNTS},
        preflight_status=first.preflight_status,
        preflight_ok=first.preflight_ok,
        cpu_app_s=[round(sum(cpu), 2) for cpu in zip(*(r.cpu_app_s for r in rows), strict=True)],
        cpu_wrk_s=round(sum(r.cpu_wrk_s for r in rows), 2),
        cpu_db_s=round(sum(db), 2) if db else None,
        cpu_machine_s=round(sum(r.cpu_machine_s for r in rows), 2),
    )


COUNTS = ("non_2xx", "socket_errors", "timeouts", "connect_errors", "read_errors", "write_errors")


# Each check of the ceiling between rows: as long as a 32-connection run may be (wrk's
# 2 s timeout + 2 s).
CHECK_SECONDS = 4
CEILING_CHECK = Scenario("ceiling_check", "", "ceiling, between rows", "ceiling", "/", 0)


class CeilingChecks:
    """The bare ceiling measured again after each app row, in a short run: the run's
    ceiling is the median of these and of rows 7a and 7b (main.py).

    Two runs, at the start and the end, were a thin sample: on a shared machine they came
    out up to 27% apart, and 4 s runs of the ceiling a minute apart 7,300 to 10,200
    requests/s, twice the spread of the app's own slices."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.job: WrkJob | None = None
        self.rps: list[float] = []

    def check(self, server: LiveServer) -> None:
        if self.job is None:
            self.job = _job(server, CEILING_CHECK, None)
            run_wrk(self.job, self.run.warmup, None)
        seconds = _seconds(CEILING_CHECK, CHECK_SECONDS)
        self.rps.append(round(_timed(server, CEILING_CHECK, self.run, self.job, seconds, CEILING_CHECK.expect).rps, 1))


# Load generators by Scenario.driver. A WebSocket fan-out row registers its own here.
DRIVERS: dict[str, Callable[[LiveServer, Scenario, Run], Row]] = {"wrk": measure_wrk}


def measure(server: LiveServer, sc: Scenario, run: Run) -> Row:
    return DRIVERS[sc.driver](server, sc, run)
