"""A database server that goes away and comes back (PostgreSQL and MariaDB).

The app reaches the test database through a TCP relay the test can cut and restore, so
the real server (shared with other tests) is never stopped.
"""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from backend.main import create_app
from backend.test.conftest import build_settings
from backend.test.factories import bearer, login, register


class Relay:
    """Forwards 127.0.0.1:<port> to the database server until `cut()`; `restore()` reopens."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and drop every open connection, as a server restart does."""
        with self._lock:
            if self._listener is not None:
                # shutdown() first: close() alone leaves a blocked accept() listening.
                try:
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relayed_url(database_url: str) -> Iterator[tuple[Relay, str]]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        pytest.skip("a database server outage needs PostgreSQL or MariaDB (TEST_DATABASE_URL)")
    default_port = 5432 if url.get_backend_name() == "postgresql" else 3306
    relay = Relay((url.host or "127.0.0.1", url.port or default_port))
    relay.restore()
    yield relay, url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    relay.cut()


def _wait_for(client: TestClient, status: int, seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    last = 0
    while time.monotonic() < deadline:
        last = client.get("/health").status_code
        if last == status:
            return last
    return last


def test_a_database_restart_fails_requests_only_while_it_is_down(relayed_url: tuple[Relay, str]) -> None:
    relay, url = relayed_url
    with TestClient(create_app(build_settings(url, DB_POOL_TIMEOUT=2))) as client:
        user = register(client)
        headers = bearer(login(client, user["username"]))
        assert client.get("/todos/", headers=headers).status_code == 200

        relay.cut()
        health = client.get("/health")
        listing = client.get("/todos/", headers=headers)

        assert health.status_code == 503
        assert health.json()["database"] == "unreachable"
        assert listing.status_code == 503
        assert listing.json() == {"detail": "Database unavailable"}

        relay.restore()

        assert _wait_for(client, 200) == 200
        assert client.get("/todos/", headers=headers).status_code == 200
        created = client.post("/todos/todos", json={"title": "after the restart"}, headers=headers)
        assert created.status_code == 201
