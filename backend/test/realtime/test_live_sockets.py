"""`GET /ws` on a real uvicorn with a real WebSocket client: delivery, who gets what, the
handshake's checks, the session ending, the limits and the pings.

The server runs with WS_MAX_PER_USER=2 (so the 4429 eviction is reachable with three
sockets); the ping test has a server of its own with WS_PING_SECONDS=0.3.
"""

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from backend.core.config import Settings
from backend.test.conftest import live_env
from backend.test.factories import Account, set_active, use_session
from backend.test.live import LiveServer
from backend.test.socket_client import PING, close_code, cookie, is_open, next_message, open_socket, refused_status

STARTUP_SECONDS = 60.0
SESSION_ENDED_WITHIN = 5.0  # the bound for closing a socket whose session ended


def start_server(settings: Settings, log_path: Path, **over: str) -> LiveServer:
    return LiveServer.uvicorn(
        env=live_env(settings, **over), log_path=log_path, args=["--no-access-log"], startup_timeout=STARTUP_SECONDS
    ).start()


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(settings, tmp_path_factory.mktemp("ws") / "server.log", WS_MAX_PER_USER="2") as live:
        yield live


@pytest.fixture(scope="module")
def pinging(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that pings every 0.3 s."""
    with start_server(settings, tmp_path_factory.mktemp("ws-ping") / "server.log", WS_PING_SECONDS="0.3") as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def bearer_socket(server: LiveServer, account: Account) -> ClientConnection:
    return open_socket(server.url, headers=account.headers)


def cookie_socket(server: LiveServer, account: Account) -> ClientConnection:
    return open_socket(server.url, headers=cookie("session", account.token), origin=server.url)


def create_via_api(http: httpx.Client, account: Account, title: str) -> dict[str, object]:
    response = http.post("/todos/todos", json={"title": title}, headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def create_via_form(http: httpx.Client, settings: Settings, account: Account, title: str) -> None:
    """The add-todo page's form, posted as a browser does: session cookie and CSRF field."""
    csrf = use_session(http, settings, account)
    try:
        response = http.post("/add-todo-page", data={"csrf_token": csrf, "title": title, "priority": "3"})
    finally:
        http.cookies.clear()
    assert response.status_code == 303, response.text


class TestDelivery:
    def test_both_sockets_of_a_user_get_api_and_form_changes(
        self, server: LiveServer, http: httpx.Client, settings: Settings, user: Account
    ) -> None:
        with bearer_socket(server, user) as first, cookie_socket(server, user) as second:
            created = create_via_api(http, user, "From the API")
            for socket in (first, second):
                message = next_message(socket)
                assert (message["type"], message["id"], message["todo"]) == ("todo.created", created["id"], created)
                assert message["version"] and message["at"].endswith("Z")
            create_via_form(http, settings, user, "From the form")
            for socket in (first, second):
                message = next_message(socket)
                assert (message["type"], message["todo"]["title"]) == ("todo.created", "From the form")

    def test_another_users_socket_gets_nothing_of_it(
        self, server: LiveServer, http: httpx.Client, settings: Settings, user: Account, other_user: Account
    ) -> None:
        with bearer_socket(server, user) as mine, bearer_socket(server, other_user) as theirs:
            create_via_api(http, user, "Mine, by API")
            create_via_form(http, settings, user, "Mine, by form")
            assert [next_message(mine)["todo"]["title"] for _ in range(2)] == ["Mine, by API", "Mine, by form"]
            own = create_via_api(http, other_user, "Theirs")
            # Their first message is their own change: nothing of the user's came before it.
            assert next_message(theirs)["todo"] == own


class TestHandshake:
    def test_cookie_from_the_apps_origin_is_accepted(self, server: LiveServer, user: Account) -> None:
        with cookie_socket(server, user) as socket:
            assert is_open(socket)

    @pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:1", None])
    def test_cookie_from_another_origin_or_none_is_403(
        self, server: LiveServer, user: Account, origin: str | None
    ) -> None:
        assert refused_status(server.url, headers=cookie("session", user.token), origin=origin) == 403

    def test_bearer_header_is_accepted_from_any_origin(self, server: LiveServer, user: Account) -> None:
        with open_socket(server.url, headers=user.headers, origin="https://script.example") as socket:
            assert is_open(socket)

    @pytest.mark.parametrize("name", ["token", "access_token", "session", "authorization"])
    def test_a_token_in_the_url_is_ignored(self, server: LiveServer, user: Account, name: str) -> None:
        assert refused_status(server.url, query=f"{name}={user.token}", origin=server.url) == 403

    def test_no_session_or_a_bad_token_is_403(self, server: LiveServer) -> None:
        assert refused_status(server.url) == 403
        assert refused_status(server.url, headers={"Authorization": "Bearer not.a.token"}) == 403


class TestSessionEnd:
    """The session watcher closes a socket whose session ended with 4401 (measured: 0-2 s)."""

    def test_logout_closes_the_socket_with_4401(self, server: LiveServer, http: httpx.Client, user: Account) -> None:
        with bearer_socket(server, user) as socket:
            assert is_open(socket)
            assert http.post("/auth/logout", headers=user.headers).status_code == 204
            assert close_code(socket, timeout=SESSION_ENDED_WITHIN) == 4401

    def test_password_change_closes_the_socket_with_4401(
        self, server: LiveServer, http: httpx.Client, user: Account
    ) -> None:
        with cookie_socket(server, user) as socket, bearer_socket(server, user) as scripted:
            assert is_open(socket) and is_open(scripted)
            change = {"password": user.password, "new_password": "a-Brand-new-lantern-58"}
            assert http.put("/user/password", json=change, headers=user.headers).status_code == 204
            assert close_code(socket, timeout=SESSION_ENDED_WITHIN) == 4401
            assert close_code(scripted, timeout=SESSION_ENDED_WITHIN) == 4401

    def test_a_deactivated_account_closes_the_socket_with_4401(
        self, server: LiveServer, user: Account, db_session: Session
    ) -> None:
        with bearer_socket(server, user) as socket:
            assert is_open(socket)
            set_active(db_session, user.id, active=False)
            assert close_code(socket, timeout=SESSION_ENDED_WITHIN) == 4401

    def test_other_users_sockets_stay_open(
        self, server: LiveServer, http: httpx.Client, user: Account, other_user: Account
    ) -> None:
        with bearer_socket(server, user) as mine, bearer_socket(server, other_user) as theirs:
            assert http.post("/auth/logout", headers=user.headers).status_code == 204
            assert close_code(mine, timeout=SESSION_ENDED_WITHIN) == 4401
            assert is_open(theirs)


class TestLimits:
    def test_a_flood_is_closed_with_1008(self, server: LiveServer, user: Account) -> None:
        with bearer_socket(server, user) as socket:
            with contextlib.suppress(ConnectionClosed):  # the server may close it mid-loop
                for n in range(40):  # in well under a second
                    socket.send(json.dumps({"type": "chatter", "n": n}))
            assert close_code(socket) == 1008

    def test_twenty_messages_a_second_are_fine(self, server: LiveServer, user: Account) -> None:
        with bearer_socket(server, user) as socket:
            for _ in range(19):
                socket.send(json.dumps({"type": "ignored"}))
            assert is_open(socket)  # the 20th message, answered

    def test_a_5_kib_frame_is_closed_with_1008(self, server: LiveServer, user: Account) -> None:
        with bearer_socket(server, user) as socket:
            socket.send(json.dumps({"type": "ping", "pad": "x" * 5120}))
            assert close_code(socket) == 1008

    def test_a_third_socket_closes_the_oldest_with_4429(self, server: LiveServer, user: Account) -> None:
        with bearer_socket(server, user) as oldest, bearer_socket(server, user) as middle:
            assert is_open(oldest) and is_open(middle)
            with bearer_socket(server, user) as newest:
                assert close_code(oldest) == 4429
                assert is_open(middle) and is_open(newest)


class TestPings:
    def test_a_client_that_never_answers_is_closed_with_4408(self, pinging: LiveServer, user: Account) -> None:
        with bearer_socket(pinging, user) as socket:
            assert json.loads(socket.recv(timeout=5)) == PING
            assert close_code(socket, answer_pings=False) == 4408

    def test_a_client_that_answers_stays_open(self, pinging: LiveServer, user: Account) -> None:
        with bearer_socket(pinging, user) as socket:
            answered = 0
            while answered < 6:  # twice as many pings as close a silent client
                assert json.loads(socket.recv(timeout=5)) == PING
                socket.send(json.dumps({"type": "pong"}))
                answered += 1
            assert is_open(socket)
