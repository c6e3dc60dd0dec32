"""The live-server helper's one subtle duty: another process may take the free port it chose.

CI runs the PostgreSQL and MariaDB suites side by side, so a port found free can be bound by
the other suite before the child binds it. The child then dies with "Address already in
use"; the helper must start it again on a new port, whether it waited at start or later.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.test import live
from backend.test.live import HOST, PORT, LiveServer, LiveServerError


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other process already listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def http_server(tmp_path: Path, port: int | None = None) -> LiveServer:
    command = [sys.executable, "-m", "http.server", PORT, "--bind", HOST, "--directory", str(tmp_path)]
    return LiveServer("http", command, port=port, health_path="/", env={}, log_path=tmp_path / "http.log")


def first_taken(monkeypatch: pytest.MonkeyPatch, taken: int) -> None:
    """free_port answers the taken port once, as if another process had just bound it."""
    ports = iter([taken])
    real = live.free_port
    monkeypatch.setattr(live, "free_port", lambda host=HOST: next(ports, None) or real(host))


@pytest.mark.parametrize("wait_at_start", [True, False])
def test_a_lost_port_race_starts_again_on_a_new_port(
    wait_at_start: bool, taken_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_taken(monkeypatch, taken_port)
    server = http_server(tmp_path).start(wait=wait_at_start)
    with server:  # stops it at the end
        if not wait_at_start:
            server.wait_ready()
        assert server.port != taken_port
        assert httpx.get(f"{server.url}/").status_code == 200
        assert "address already in use" in server.output().lower()  # the first launch did lose


def test_a_fixed_port_that_is_taken_fails_with_the_log(taken_port: int, tmp_path: Path) -> None:
    server = http_server(tmp_path, port=taken_port)
    with pytest.raises(LiveServerError, match="(?i)address already in use"):
        server.start()
    assert server.port == taken_port


def test_a_server_that_never_answers_is_stopped_when_the_wait_gives_up(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    server = LiveServer("mute", command, startup_timeout=0.5, env={}, log_path=tmp_path / "mute.log")
    with pytest.raises(LiveServerError, match="did not answer"):
        server.start()
    assert not server.alive()
