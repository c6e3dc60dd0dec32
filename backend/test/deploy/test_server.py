"""backend/server.py: several workers each on a listening socket of their own, so new
connections are spread over all of them, also after a worker died."""

import json
import os
import signal
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.test.live import LiveServer, wait_until

from .processes import clean_env

CONNECTIONS = 128


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer.uvicorn(
        "backend.test.deploy.pid_app:app",
        args=["--workers", "2"],
        env=clean_env(),
        log_path=tmp_path / "server.log",
        health_path="/",
    )
    with server:
        yield server


def served_by(server: LiveServer, connections: int = CONNECTIONS) -> Counter[int]:
    """Which worker answered on each of `connections` connections opened in one burst (as a
    load balancer's or a benchmark's keep-alive pool opens them), then used once each."""
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(connections)]
    try:
        for sock in socks:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        return Counter(_pid_answered(sock) for sock in socks)
    finally:
        for sock in socks:
            sock.close()


def exited(pid: int) -> bool:
    """True once `pid` has ended (its files, the listening socket among them, are closed)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _pid_answered(sock: socket.socket) -> int:
    answer = b""
    while not answer.endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before the answer ended: {answer!r}")
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return int(json.loads(body)["pid"])


def test_new_connections_are_spread_over_every_worker(two_workers: LiveServer) -> None:
    counts = served_by(two_workers)
    assert len(counts) == 2, counts
    # Even shares give 64 each; below 32 of 128 has odds under 1 in 10 million by chance
    # (one shared socket, uvicorn's own, gave 13 of 64 and 15 of 64 here).
    assert min(counts.values()) >= CONNECTIONS // 4, counts


def test_a_dead_workers_connections_go_to_the_living(two_workers: LiveServer) -> None:
    victim, survivor = served_by(two_workers)  # both pids, each seen at least once
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: exited(victim), timeout=10, what=f"worker {victim} to exit")
    # Every connection is answered (5 s timeout each) while uvicorn replaces the worker:
    # none waits on a socket that only the supervisor still held.
    after = served_by(two_workers, connections=32)
    assert victim not in after and sum(after.values()) == 32
    replacement = wait_until(
        lambda: next((pid for pid in served_by(two_workers) if pid not in (victim, survivor)), None),
        timeout=30,
        what="a replacement worker answering",
    )
    assert replacement > 0
