"""One wrk run: the command line, the Lua script's JSON line parsed, and wrk's own CPU time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.scripts.bench.common import LUA_DIR, SEED_DONE_MARKER, THREADS, SetupError
from backend.scripts.bench.processes import PROCS

# How much longer than its -d a wrk run may take before it is killed.
OVERRUN_S = 30


@dataclass(frozen=True)
class WrkJob:
    key: str
    base: str
    path: str
    lua: str
    conns: int
    timeout: int
    token: str | None = None
    ids: list[int] = field(default_factory=list)

    def command(self, seconds: int) -> list[str]:
        cmd = ["wrk", f"-t{THREADS}", f"-c{self.conns}", f"-d{seconds}s", "--timeout", f"{self.timeout}s"]
        cmd += ["--latency", "-s", str(LUA_DIR / self.lua)]
        if self.token:
            cmd += ["-H", f"Authorization: Bearer {self.token}"]
        return [*cmd, self.base + self.path]


@dataclass
class WrkResult:
    """common.lua's BENCH_JSON line; latencies in microseconds, `status` = responses >= 400."""

    requests: int
    duration_us: int
    bytes: int
    connect: int
    read: int
    write: int
    status: int
    timeout: int
    p50_us: int
    p90_us: int
    p99_us: int
    mean_us: float
    max_us: int
    seed_created: int = 0
    cpu_s: float = 0.0  # wrk's own user + system time

    @property
    def socket_errors(self) -> int:
        return self.connect + self.read + self.write + self.timeout


def _parse(out: str) -> WrkResult | None:
    found: dict[str, Any] = {}  # the keys are common.lua's and WrkResult's
    for line in out.splitlines():
        if line.startswith("BENCH_SEED_CREATED "):
            found["seed_created"] = int(line.split()[1])
        if line.startswith("BENCH_JSON "):
            found.update(json.loads(line.removeprefix("BENCH_JSON ")))
    if "requests" not in found:
        return None
    return WrkResult(**found)


class _SeedWatch:
    """seed.lua says on stderr when each thread is done; wrk itself only ends after -d or
    on SIGINT, so once every thread has said so, wrk gets SIGINT (and prints its results)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.finished = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        done_threads = 0
        for line in self.proc.stderr:
            if not line.startswith(SEED_DONE_MARKER):
                self.lines.append(line)
                continue
            done_threads += 1
            if done_threads >= THREADS:
                threading.Thread(target=self._interrupt, daemon=True).start()

    def _interrupt(self) -> None:
        while self.proc.returncode is None and not self.finished.is_set():
            try:
                os.kill(self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                return
            self.finished.wait(1.0)  # again if it came before wrk installed its handler

    def close(self) -> str:
        self.finished.set()
        self.reader.join(timeout=5)
        return "".join(self.lines)


def _reap(proc: subprocess.Popen[str]) -> float:
    """Wait for wrk and return its CPU seconds (os.wait4's rusage, which Popen.wait drops)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # wrk's own group, never anything else
        except ProcessLookupError:
            pass


def run_wrk(job: WrkJob, seconds: int, raw_log: Path | None, extra_env: dict[str, str] | None = None) -> WrkResult:
    """Run wrk for `seconds` (the raw output appended to `raw_log`); SetupError without a result."""
    cmd = job.command(seconds)
    env = {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), "BENCH_IDS": ",".join(map(str, job.ids)), **(extra_env or {})}
    proc = PROCS.start_text(cmd, env)
    assert proc.stdout is not None
    watch = _SeedWatch(proc)
    watchdog = threading.Timer(seconds + OVERRUN_S, _kill, args=(proc,))
    watchdog.start()
    try:
        out = proc.stdout.read()
        cpu_s = _reap(proc)
    finally:
        watchdog.cancel()
        err = watch.close()
        PROCS.sync()
    if proc.returncode < 0:
        raise SetupError(
            f"wrk for {job.key} was killed (signal {-proc.returncode}; limit {seconds + OVERRUN_S} s):\n{err}"
        )
    if raw_log is not None:
        with raw_log.open("a") as fh:
            shown = [c if not c.startswith("Authorization:") else "Authorization: Bearer ..." for c in cmd]
            fh.write(f"$ {' '.join(shown)}\n{out}{err}\n")
    result = _parse(out)
    if result is None:
        raise SetupError(f"wrk for {job.key} printed no result (exit {proc.returncode}):\n{out}\n{err}")
    result.cpu_s = cpu_s
    return result
