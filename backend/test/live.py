"""The one live-server helper: a real process on a free loopback port, polled until it answers.

Used by the e2e, concurrency and deploy tests and by the benchmark (backend/scripts/bench),
all of which need the same five things: a free port, a child process started in a session
of its own, a log file that keeps its output, a poll of `/health` (never a fixed sleep) that
gives up early when the child dies, and a stop that cannot leave a worker behind.

It lives in backend/test because tests are its main users and the benchmark is, like them,
a development tool that the Docker image leaves out; it imports nothing but the standard
library and httpx (no pytest, no app code), so the benchmark can import it without pulling
in fixtures. Errors are exceptions carrying the end of the log, which pytest shows as is.

    with LiveServer.uvicorn(env=env, log_path=tmp / "app.log") as server:
        httpx.get(f"{server.url}/health")

A command or an environment value may contain PORT ("{port}"); it is replaced by the port
chosen at start, e.g. `LiveServer("app", ["bash", "serve.sh"], env={"PORT": PORT, ...})`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Required, Self, TypedDict, TypeVar, Unpack

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PORT = "{port}"
T = TypeVar("T")
SpawnHook = Callable[[subprocess.Popen[bytes]], None]


class ProcessOptions(TypedDict, total=False):
    """LiveProcess's keyword arguments, which LiveServer passes on as they are."""

    env: Required[Mapping[str, str]]
    log_path: Required[Path]
    cwd: Path
    on_spawn: SpawnHook | None


class ServerOptions(ProcessOptions, total=False):
    """LiveServer's keyword arguments, which LiveServer.uvicorn passes on as they are."""

    port: int | None
    health_path: str
    startup_timeout: float


class LiveServerError(RuntimeError):
    """A live process did not start, or did not become ready; the message ends with its log."""


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on right now (another process may still take it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class LiveProcess:
    """One child process in a session of its own, its output (stdout and stderr) in a log file.

    `on_spawn` sees every Popen right after it starts (the benchmark records the pids so its
    shell wrapper can stop them should the Python process die).
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path = REPO_ROOT,
        on_spawn: SpawnHook | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.on_spawn = on_spawn
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Start the command (once); its log file is appended to."""
        self._spawn(self.command, self.env)
        return self

    def _spawn(self, command: list[str], env: dict[str, str]) -> None:
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.on_spawn is not None:
            self.on_spawn(self._popen)

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        if self._popen is None:
            raise LiveServerError(f"{self.name} was not started")
        return self._popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def output(self) -> str:
        """Everything the process has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        """The end of the output, to explain a failure."""
        return "\n".join(self.output().splitlines()[-lines:])

    def send(self, sig: signal.Signals) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM; if it has not gone after `timeout` s, SIGKILL its process group (it and its workers)."""
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            # Still running, so the group is still the one start_new_session made for it.
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def __enter__(self) -> Self:
        return self if self._popen is not None else self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


class LiveServer(LiveProcess):
    """A LiveProcess that listens on `port` (a free one by default) and answers `health_path`.

    `start()` waits until `health_path` answers 200 (polling, and waiting on the process
    itself in between so a crash ends the wait at once) and, when the port was chosen here
    and another process took it first, tries again on a new one. `start(wait=False)` then
    `wait_ready()` does the same for several processes started side by side.
    """

    START_ATTEMPTS = 3

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        port: int | None = None,
        health_path: str = "/health",
        startup_timeout: float = 30.0,
        **process: Unpack[ProcessOptions],
    ) -> None:
        super().__init__(name, command, **process)
        self.fixed_port = port
        self.port = port or 0
        self.health_path = health_path
        self.startup_timeout = startup_timeout
        self._log_start = 0

    @classmethod
    def uvicorn(
        cls,
        app: str = "backend.main:app",
        *,
        args: Sequence[str] = (),
        name: str = "uvicorn",
        **options: Unpack[ServerOptions],
    ) -> LiveServer:
        """`python -m backend.server APP --host 127.0.0.1 --port PORT *args` from the repository
        root: uvicorn as serve.sh runs it (each of several workers on a socket of its own)."""
        command = [sys.executable, "-m", "backend.server", app, "--host", HOST, "--port", PORT, *args]
        return cls(name, command, **options)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, *, wait: bool = True) -> Self:
        """Start on the port; unless `wait` is off, return once `health_path` answers 200.

        A caller that starts several without waiting calls `wait_ready()` on each after.
        """
        self._launch()
        if wait:
            self.wait_ready()
        return self

    def _launch(self) -> None:
        self.port = self.fixed_port or free_port()
        port = str(self.port)
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._spawn(
            [arg.replace(PORT, port) for arg in self.command],
            {key: value.replace(PORT, port) for key, value in self.env.items()},
        )

    def _lost_port_race(self) -> bool:
        """Whether this launch's output says another process took the chosen port first."""
        if self.fixed_port or not self.log_path.exists():
            return False
        output = self.log_path.read_bytes()[self._log_start :]
        return b"address already in use" in output.lower()

    def wait_ready(self) -> None:
        """Wait until `health_path` answers 200; when another process took the chosen port
        first, start again on a new one (up to START_ATTEMPTS launches in all)."""
        for attempt in range(1, self.START_ATTEMPTS + 1):
            try:
                self._poll_ready()
                return
            except LiveServerError:
                self.stop(timeout=5)  # never left running, whatever went wrong
                if not self._lost_port_race():
                    raise
                if attempt == self.START_ATTEMPTS:
                    raise LiveServerError(f"{self.name}: no free port after {attempt} attempts") from None
                self._launch()

    def _poll_ready(self) -> None:
        """Poll `health_path` until it answers 200; LiveServerError (with the log) if it never does."""
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer"
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                try:
                    response = client.get(self.health_path)
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.TransportError as exc:
                    last = repr(exc)
                try:
                    code = self.popen.wait(timeout=0.05)  # returns at once if the process died
                except subprocess.TimeoutExpired:
                    continue
                raise LiveServerError(f"{self.name} exited with {code} before answering:\n{self.tail()}")
        raise LiveServerError(
            f"{self.name} did not answer {self.health_path} on port {self.port} within "
            f"{self.startup_timeout}s ({last}):\n{self.tail()}"
        )
