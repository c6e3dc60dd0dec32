"""GET /ws in-process (Starlette's TestClient): who may connect, what they get, and when they are closed.

The same rules against a real uvicorn, several processes, Redis and nginx are in
test_live_sockets.py and the deploy tests.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from backend.core.config import Settings
from backend.test.factories import Account, set_active, use_session

CSV = b"title,priority\r\nImported one,2\r\nImported two,3\r\n"


def next_message(ws: WebSocketTestSession) -> dict[str, Any]:
    message: dict[str, Any] = ws.receive_json()
    return message


def nothing_pending(ws: WebSocketTestSession) -> bool:
    """True when no event was queued for this socket: the reply to a ping comes first."""
    ws.send_json({"type": "ping"})
    return next_message(ws) == {"type": "pong"}


def closed_with(ws: WebSocketTestSession) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            ws.receive_json()
    return closed.value.code


@pytest.fixture
def socket(client: TestClient, user: Account) -> Iterator[WebSocketTestSession]:
    with client.websocket_connect("/ws", headers=user.headers) as ws:
        yield ws


class TestHandshake:
    def test_without_a_session_the_handshake_is_refused(self, client: TestClient) -> None:
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws"):
                pass

    def test_a_bad_or_ended_bearer_token_is_refused(self, client: TestClient, user: Account) -> None:
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws", headers={"Authorization": "Bearer not-a-token"}):
                pass
        client.post("/auth/logout", headers=user.headers)
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws", headers=user.headers):
                pass

    def test_a_token_in_the_url_is_never_read(self, client: TestClient, user: Account) -> None:
        token = user.headers["Authorization"].removeprefix("Bearer ")
        for query in (f"token={token}", f"access_token={token}", f"authorization=Bearer%20{token}"):
            with pytest.raises(WebSocketDisconnect):
                with client.websocket_connect(f"/ws?{query}"):
                    pass

    @pytest.mark.parametrize("origin", [None, "https://evil.example", "http://testserver.evil.example", "null"])
    def test_a_cookie_handshake_needs_the_apps_own_origin(
        self, client: TestClient, user: Account, settings: Settings, origin: str | None
    ) -> None:
        use_session(client, settings, user)
        headers = {} if origin is None else {"Origin": origin}
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws", headers=headers):
                pass

    def test_an_origin_listed_in_allowed_origins_may_use_the_cookie(
        self, client_factory: Any, user: Account, settings: Settings
    ) -> None:
        client = client_factory(ALLOWED_ORIGINS="https://app.example.com, https://other.example")
        use_session(client, settings, user)
        with client.websocket_connect("/ws", headers={"Origin": "https://app.example.com"}) as ws:
            assert nothing_pending(ws)


class TestEvents:
    def test_api_changes_arrive_in_order_with_the_read_body_and_its_etag(
        self, client: TestClient, user: Account, socket: WebSocketTestSession
    ) -> None:
        todo = client.post("/todos/todos", json={"title": "Live"}, headers=user.headers).json()
        client.patch(f"/todos/todo/{todo['id']}", json={"complete": True}, headers=user.headers)
        read = client.get(f"/todos/{todo['id']}", headers=user.headers)
        client.delete(f"/todos/todo/{todo['id']}", headers=user.headers)
        client.post(f"/todos/todo/{todo['id']}/restore", headers=user.headers)

        created, updated, deleted, restored = (next_message(socket) for _ in range(4))
        assert (created["type"], created["id"], created["todo"]) == ("todo.created", todo["id"], todo)
        assert (updated["type"], updated["todo"], updated["version"]) == (
            "todo.updated",
            read.json(),
            read.headers["ETag"],
        )
        assert deleted == {"type": "todo.deleted", "id": todo["id"], "version": None, "at": deleted["at"]}
        assert (restored["type"], restored["todo"]["id"]) == ("todo.restored", todo["id"])
        assert created["at"].endswith("Z")

    def test_page_forms_imports_and_admin_deletes_count_too(
        self, client: TestClient, user: Account, admin: Account, settings: Settings, socket: WebSocketTestSession
    ) -> None:
        csrf = use_session(client, settings, user)
        client.post("/add-todo-page", data={"csrf_token": csrf, "title": "From the page"})
        added = next_message(socket)
        assert (added["type"], added["todo"]["title"]) == ("todo.created", "From the page")

        client.cookies.clear()
        client.post("/todos/import", content=CSV, headers={**user.headers, "Content-Type": "text/csv"})
        imported = [next_message(socket) for _ in range(2)]
        assert [(m["type"], m["todo"]["title"]) for m in imported] == [
            ("todo.created", "Imported one"),
            ("todo.created", "Imported two"),
        ]

        client.delete(f"/admin/todo/{added['id']}", headers=admin.headers)
        assert (next_message(socket)["type"], added["id"]) == ("todo.deleted", added["id"])

    def test_another_users_socket_gets_nothing(self, client: TestClient, user: Account, other_user: Account) -> None:
        with client.websocket_connect("/ws", headers=other_user.headers) as theirs:
            client.post("/todos/todos", json={"title": "Private"}, headers=user.headers)

            assert nothing_pending(theirs)

    def test_a_change_that_fails_announces_nothing(
        self, client: TestClient, user: Account, socket: WebSocketTestSession
    ) -> None:
        client.post("/todos/todos", json={"title": ""}, headers=user.headers)  # 422
        client.post("/todos/todos", json={"title": "x", "remind_at": "2001-01-01T00:00:00Z"}, headers=user.headers)

        assert nothing_pending(socket)


class TestSharedLists:
    def test_every_member_hears_of_changes_in_a_shared_list_and_strangers_do_not(
        self, client: TestClient, user: Account, other_user: Account, account_factory: Any
    ) -> None:
        stranger = account_factory()
        work = client.post("/lists/", json={"name": "Work"}, headers=user.headers).json()
        members = f"/lists/{work['id']}/members"
        client.post(members, json={"username": other_user.username, "role": "editor"}, headers=user.headers)
        with (
            client.websocket_connect("/ws", headers=user.headers) as owner_socket,
            client.websocket_connect("/ws", headers=other_user.headers) as member_socket,
            client.websocket_connect("/ws", headers=stranger.headers) as stranger_socket,
        ):
            todo = client.post(
                "/todos/todos", json={"title": "Shared", "list_id": work["id"]}, headers=other_user.headers
            ).json()
            client.delete(f"/todos/todo/{todo['id']}", headers=user.headers)
            for ws in (owner_socket, member_socket):
                created, deleted = next_message(ws), next_message(ws)
                assert (created["type"], created["todo"]["created_by"]) == ("todo.created", other_user.username)
                assert (deleted["type"], deleted["id"]) == ("todo.deleted", todo["id"])
            assert nothing_pending(stranger_socket)

            client.delete(f"{members}/{other_user.username}", headers=user.headers)
            assert next_message(member_socket)["type"] == "list.unshared"
            client.post("/todos/todos", json={"title": "Private again", "list_id": work["id"]}, headers=user.headers)
            assert nothing_pending(member_socket)


class TestLimits:
    def test_a_frame_over_4_kib_closes_with_1008(self, socket: WebSocketTestSession) -> None:
        socket.send_text("x" * 4097)

        assert closed_with(socket) == 1008

    def test_a_flood_closes_with_1008(self, socket: WebSocketTestSession) -> None:
        for _ in range(25):
            socket.send_text("{}")

        assert closed_with(socket) == 1008

    def test_anything_else_a_client_sends_is_ignored(self, socket: WebSocketTestSession) -> None:
        for text in ("hello", "[1, 2]", '{"type": "todo.created"}', '{"type": 5}'):
            socket.send_text(text)

        assert nothing_pending(socket)

    def test_the_oldest_socket_closes_with_4429_past_ws_max_per_user(self, client_factory: Any, user: Account) -> None:
        client = client_factory(WS_MAX_PER_USER=2)
        with client.websocket_connect("/ws", headers=user.headers) as first:
            with client.websocket_connect("/ws", headers=user.headers) as second:
                with client.websocket_connect("/ws", headers=user.headers) as third:
                    assert closed_with(first) == 4429
                    assert nothing_pending(second) and nothing_pending(third)

    def test_a_client_that_answers_no_pings_is_closed(self, client_factory: Any, user: Account) -> None:
        client = client_factory(WS_PING_SECONDS=0.05)
        with client.websocket_connect("/ws", headers=user.headers) as ws:
            pings = 0
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    pings += ws.receive_json() == {"type": "ping"}
            assert (closed.value.code, pings) == (4408, 2)

    def test_a_client_that_answers_pings_stays(self, client_factory: Any, user: Account) -> None:
        client = client_factory(WS_PING_SECONDS=0.25)  # two intervals to answer in, even on a loaded machine
        with client.websocket_connect("/ws", headers=user.headers) as ws:
            for _ in range(4):
                assert ws.receive_json() == {"type": "ping"}
                ws.send_json({"type": "pong"})
            ws.send_json({"type": "ping"})
            replies = [ws.receive_json() for _ in range(2)]
            assert {"type": "pong"} in replies


class TestSessionEnd:
    @pytest.mark.parametrize("how", ["logout", "password", "deactivated", "deleted"])
    def test_the_socket_closes_with_4401_when_the_session_ends(
        self, client: TestClient, user: Account, admin: Account, how: str, db_session: Session
    ) -> None:
        with client.websocket_connect("/ws", headers=user.headers) as ws:
            if how == "logout":
                client.post("/auth/logout", headers=user.headers)
            elif how == "password":
                client.put(
                    "/user/password",
                    json={"password": user.password, "new_password": "a brand new passphrase 42"},
                    headers=user.headers,
                )
            elif how == "deactivated":
                set_active(db_session, user.id, active=False)
            else:
                client.delete(f"/admin/{user.username}", headers=admin.headers)

            assert closed_with(ws) == 4401  # the watcher checks every 2 s
