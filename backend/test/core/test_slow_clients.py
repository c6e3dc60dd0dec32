"""Slow clients cannot hold the server: a real `uvicorn backend.main:app`, no extra flags.

A connection gets HEADER_TIMEOUT_SECONDS to send each request head and
BODY_TIMEOUT_SECONDS for the body (both 1 s here); then it is answered 408 and closed.
A connection upgraded to a WebSocket is no longer HTTP: the deadline leaves it alone.
"""

import socket
from collections.abc import Iterator

import httpx
import orjson
import pytest
from websockets.sync.client import connect as ws_connect

from backend.core.config import Settings
from backend.test.conftest import live_env
from backend.test.factories import Account
from backend.test.live import HOST, LiveServer

CLOSE_WAIT = 10.0  # far above the 1 s deadlines: the test fails if the server never closes


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = live_env(settings, HEADER_TIMEOUT_SECONDS="1", BODY_TIMEOUT_SECONDS="1", WS_PING_SECONDS="0.25")
    log_path = tmp_path_factory.mktemp("slow-clients") / "server.log"
    with LiveServer.uvicorn(env=env, log_path=log_path) as live:  # as people start it: no --loop, no --http
        yield live


def connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection((HOST, server.port), timeout=CLOSE_WAIT)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or CLOSE_WAIT passes)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


class TestHeaderDeadline:
    def test_a_connection_that_sends_nothing_is_answered_408_and_closed(self, server: LiveServer) -> None:
        with connect(server) as sock:
            answer = read_until_closed(sock)

        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"Request headers not received in time" in answer

    def test_headers_that_never_end_are_answered_408_and_closed(self, server: LiveServer) -> None:
        with connect(server) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")

            answer = read_until_closed(sock)

        assert answer.startswith(b"HTTP/1.1 408 ")

    def test_a_byte_after_a_response_does_not_keep_the_connection(self, server: LiveServer) -> None:
        with connect(server) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            first = sock.recv(65536)
            sock.sendall(b"G")  # cancels uvicorn's keep-alive timer; our deadline still runs

            answer = first + read_until_closed(sock)

        assert answer.startswith(b"HTTP/1.1 200 ")
        assert answer.endswith(b'{"detail":"Request headers not received in time"}')

    def test_a_prompt_client_is_served_normally(self, server: LiveServer) -> None:
        with httpx.Client(base_url=server.url) as client:
            assert [client.get("/health").status_code for _ in range(3)] == [200, 200, 200]


class TestWebSocketUpgrade:
    def test_an_open_socket_outlives_the_header_deadline(self, server: LiveServer, user: Account) -> None:
        url = server.url.replace("http://", "ws://") + "/ws"
        with ws_connect(url, additional_headers=user.headers, open_timeout=CLOSE_WAIT) as ws:
            # Eight pings at 0.25 s, each answered: twice the 1 s deadline, on a socket that
            # once got the 408 answer written into it (browsers: "Invalid frame header").
            for _ in range(8):
                assert orjson.loads(ws.recv(timeout=CLOSE_WAIT)) == {"type": "ping"}
                ws.send('{"type": "pong"}')


class TestBodyDeadline:
    def test_a_body_that_never_completes_is_answered_408_and_closed(self, server: LiveServer) -> None:
        head = b"POST /user/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        with connect(server) as sock:
            sock.sendall(head + b"Content-Length: 100\r\n\r\n" + b'{"username": ')

            answer = read_until_closed(sock)

        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"Request body not received in time" in answer


class TestIdleConnections:
    def test_200_slow_connections_do_not_delay_a_normal_request(self, server: LiveServer) -> None:
        idle = [connect(server) for _ in range(200)]
        try:
            for sock in idle:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
            # The whole request must complete within a second, with all 200 held open.
            with httpx.Client(base_url=server.url, timeout=1.0) as client:
                response = client.get("/health")
        finally:
            for sock in idle:
                sock.close()

        assert response.status_code == 200
