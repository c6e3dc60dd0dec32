"""backend/server.py: several workers each on a listening socket of their own, so new
connections are spread over all of them, also after a worker died."""

import asyncio
import json
import os
import signal
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from uvicorn import Config

from backend.server import reuse_port_socket
from backend.test.live import LiveServer, free_port, wait_until

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


def listening(port: int) -> set[str]:
    """The inodes of the sockets listening on 127.0.0.1:`port` (the kernel's /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    rows = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return {row[9] for row in rows if row[1] == local and row[3] == "0A"}


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` holds (a descriptor closed while they are
    read, such as a connection the worker just finished, is skipped)."""
    links = (_link(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
    return {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}


def _link(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except FileNotFoundError:
        return ""


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
    sockets = listening(two_workers.port)
    assert len(sockets) == 2  # a socket per worker, none held by the supervisor alone
    (victims_socket,) = sockets & socket_inodes(victim)
    os.kill(victim, signal.SIGKILL)
    # Gone once the last of its threads has ended and its socket is closed (connections
    # queued on it then are reset by the kernel, as they would be for any dead server).
    wait_until(
        lambda: victims_socket not in listening(two_workers.port), timeout=10, what=f"worker {victim}'s socket to close"
    )
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


def test_accepted_connections_have_nagle_off() -> None:
    """asyncio sets TCP_NODELAY only on connections accepted from a socket whose protocol
    says TCP; without it each answer waits out the client's delayed ACK (40 ms)."""
    listener = reuse_port_socket(Config("backend.test.deploy.pid_app:app", host="127.0.0.1", port=free_port()))
    nodelay: list[int] = []

    async def accept_one() -> None:
        loop = asyncio.get_running_loop()
        accepted = loop.create_future()

        class Seen(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                accepted.set_result(None)

        server = await loop.create_server(Seen, sock=listener)
        _reader, writer = await asyncio.open_connection("127.0.0.1", listener.getsockname()[1])
        await asyncio.wait_for(accepted, timeout=5)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(accept_one())
    assert nodelay == [1]
