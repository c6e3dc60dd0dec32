"""The benchmark's child processes: servers through backend.test.live, wrk through `PROCS`,
and what /proc says about them (descendants, CPU ticks, peak RSS, idleness).

Every child runs in a session of its own; live pids are mirrored to BENCH_PIDFILE so that
bench.sh can stop them should this Python process be killed outright.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from backend.scripts.bench.common import HASH_SEED, UVICORN_FLAGS, SetupError, log
from backend.scripts.bench.scenarios import ServerSpec
from backend.test.live import LiveServer, LiveServerError

HZ = os.sysconf("SC_CLK_TCK")


Child = subprocess.Popen[str] | subprocess.Popen[bytes]


class Processes:
    """Every child started here, so that all of them can be stopped, and their pids on file."""

    def __init__(self) -> None:
        self.procs: list[Child] = []
        self.pidfile = os.environ.get("BENCH_PIDFILE")

    def sync(self) -> None:
        self.procs = [p for p in self.procs if p.returncode is None and p.poll() is None]
        if self.pidfile:
            Path(self.pidfile).write_text("".join(f"{p.pid}\n" for p in self.procs))

    def track(self, proc: Child) -> None:
        self.procs.append(proc)
        self.sync()

    def start_text(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
        """`args` in a session of its own, stdout and stderr piped as text."""
        proc = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.track(proc)
        return proc

    def stop(self, proc: Child, grace: float = 10.0) -> None:
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
        self.sync()

    def stop_all(self) -> None:
        for proc in list(self.procs):
            self.stop(proc, grace=5.0)


PROCS = Processes()


def start_server(spec: ServerSpec, env: dict[str, str], log_path: Path) -> LiveServer:
    """`python -m uvicorn` for `spec` on a free loopback port, once it answers its health path."""
    server = LiveServer.uvicorn(
        spec.app,
        env={**env, **spec.env, "PYTHONHASHSEED": HASH_SEED},
        log_path=log_path,
        args=["--workers", str(spec.workers), *UVICORN_FLAGS],
        name=spec.key,
        health_path=spec.health_path,
        startup_timeout=60.0,
        on_spawn=PROCS.track,
    )
    try:
        server.start()
    except LiveServerError as exc:
        raise SetupError(str(exc)) from None
    if spec.workers > 1:
        try:  # uvicorn's supervisor answers before every worker does: wait for them all
            wait_for_workers(server, spec.workers)
        except TimeoutError as exc:
            raise SetupError(f"{spec.key}: {exc}\n{server.tail()}") from None
    log(f"{spec.key} up on {server.url} (pid {server.pid}, {spec.workers} worker(s)); log {log_path.name}")
    return server


def wait_for_workers(server: LiveServer, workers: int, timeout: float = 60.0) -> None:
    """Until the supervisor has `workers` children and they have gone quiet (done importing)."""
    deadline = time.monotonic() + timeout
    while len(worker_pids(server.pid)) < workers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{workers} workers did not start within {timeout:.0f} s")
        try:
            server.wait(timeout=0.1)  # returns early only if the supervisor died
        except subprocess.TimeoutExpired:
            continue
        raise SetupError(f"{server.name} exited while its workers started:\n{server.tail()}")
    wait_idle(server)


def stop_server(server: LiveServer) -> None:
    server.stop(timeout=10.0)
    PROCS.sync()


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
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
                    pending.append(child)
    return found


def worker_pids(pid: int) -> list[int]:
    """The uvicorn workers under supervisor `pid` (multiprocessing children, not its resource
    tracker); with one worker uvicorn has no supervisor, and the worker is `pid` itself."""
    workers = []
    for child in descendants(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except OSError:
            continue
    return workers or [pid]


def cpu_ticks(pid: int, *, reaped_children: bool = False) -> int:
    """utime + stime of one process in clock ticks (0 once it has gone); with `reaped_children`,
    plus the time of the children it has waited for (a database server's ended backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        own = int(fields[11]) + int(fields[12])
        return own + (int(fields[13]) + int(fields[14]) if reaped_children else 0)
    except (OSError, IndexError, ValueError):
        return 0


def pids_named(*names: str) -> list[int]:
    """Every process whose command name is one of `names` (a database server's processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() in names:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def machine_busy_ticks() -> int:
    """Busy clock ticks of every CPU of the machine since boot (all processes, anyone's)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def status_kb(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak since the process started) in kB; {} once it has gone."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    found[key] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return found


class RssSampler(threading.Thread):
    """Polls VmRSS / VmHWM of a server and its workers: the peak of the whole and of one worker."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0  # the server as a whole (one process when it has one worker)
        self.worker_peak_kb = 0  # the largest single worker process
        self._stop_event = threading.Event()

    def sample(self) -> None:
        total_rss = 0
        children = descendants(self.pid)
        for pid in [self.pid, *children]:
            status = status_kb(pid)
            total_rss += status.get("VmRSS", 0)
            self.peak_kb = max(self.peak_kb, status.get("VmHWM", 0))
            if pid in children or not children:
                self.worker_peak_kb = max(self.worker_peak_kb, status.get("VmHWM", 0))
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


def wait_idle(server: LiveServer, limit: float = 20.0) -> float:
    """Wait until the server has drained what wrk left in flight (it keeps working on requests
    whose client has gone), so one run's backlog does not land in the next one's numbers.
    Idle = under 10% of a CPU over two 0.25 s windows in a row. Returns the seconds waited."""
    window = 0.25
    started = time.monotonic()
    quiet = 0

    def ticks() -> int:
        return sum(cpu_ticks(pid) for pid in [server.pid, *descendants(server.pid)])

    last = ticks()
    while time.monotonic() - started < limit and server.alive():
        time.sleep(window)  # a measuring window, not a wait for readiness
        now = ticks()
        quiet = quiet + 1 if (now - last) / HZ < 0.10 * window else 0
        last = now
        if quiet >= 2:
            return time.monotonic() - started
    log(f"{server.name} still busy {limit:.0f} s after wrk stopped")
    return time.monotonic() - started
