"""Smoke: the channel over Starlette's TestClient (live uvicorn tests are in test_live_sockets.py)."""

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.core.config import Settings
from backend.test.factories import Account, use_session


def test_bearer_socket_gets_the_owners_events(client: TestClient, user: Account) -> None:
    with client.websocket_connect("/ws", headers=user.headers) as ws:
        created = client.post("/todos/todos", json={"title": "Live"}, headers=user.headers).json()
        message = ws.receive_json()
        assert message["type"] == "todo.created"
        assert message["todo"] == created
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_a_cookie_handshake_from_another_origin_is_refused(
    client: TestClient, user: Account, settings: Settings
) -> None:
    use_session(client, settings, user)
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers={"Origin": "https://evil.example"}) as ws:
            ws.receive_json()
    with client.websocket_connect("/ws", headers={"Origin": "http://testserver"}) as ws:
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
