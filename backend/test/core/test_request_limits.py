"""What a client may send: the body size limit says the size that is really in force, and
a body is waited for until its deadline (the live 408s are in test_slow_clients.py)."""

import asyncio
import time

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from backend.core.request_limits import BodyTimeout, _receive_by, size_text, too_large_message
from backend.test.conftest import ClientFactory
from backend.test.factories import Account


class TestSizeText:
    def test_sizes_read_as_people_read_them(self) -> None:
        assert [size_text(n) for n in (1024 * 1024, 512 * 1024, 1500, 3 * 1024 * 1024)] == [
            "1 MiB",
            "512 KiB",
            "1500 bytes",
            "3 MiB",
        ]


class TestBodyLimitFromSettings:
    def test_the_413_says_the_configured_limit(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(MAX_BODY_BYTES=2048)

        response = client.post("/todos/todos", content=b"x" * 4096, headers=user.headers)

        assert response.status_code == 413
        assert response.json() == {"detail": "Request body too large (limit 2 KiB)"}

    def test_the_openapi_document_says_it_too(self, client_factory: ClientFactory) -> None:
        client = client_factory(MAX_BODY_BYTES=512 * 1024)

        operation = client.get("/openapi.json").json()["paths"]["/todos/todos"]["post"]

        assert operation["responses"]["413"]["description"] == too_large_message(512 * 1024)

    def test_the_default_is_one_mib(self, client: TestClient) -> None:
        operation = client.get("/openapi.json").json()["paths"]["/todos/todos"]["post"]

        assert operation["responses"]["413"]["description"] == "Request body too large (limit 1 MiB)"


class TestReceiveBy:
    """`_receive_by`: a body message by its deadline, with a timer only when it has to wait."""

    MESSAGE: Message = {"type": "http.request", "body": b"{}", "more_body": False}

    def test_a_message_already_there_needs_no_timer(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def receive() -> Message:
            return self.MESSAGE

        monkeypatch.setattr("anyio.move_on_after", None)  # called, it would fail
        assert asyncio.run(_receive_by(receive, time.monotonic() + 5)) == self.MESSAGE

    def test_a_message_that_comes_later_is_awaited(self) -> None:
        async def main() -> Message:
            arrived = asyncio.Event()

            async def receive() -> Message:
                await asyncio.sleep(0)
                await arrived.wait()
                return self.MESSAGE

            asyncio.get_running_loop().call_later(0.02, arrived.set)
            return await _receive_by(receive, time.monotonic() + 5)

        assert asyncio.run(main()) == self.MESSAGE

    def test_a_message_too_late_is_a_timeout_and_the_receive_is_cancelled(self) -> None:
        cancelled = []

        async def receive() -> Message:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
            return self.MESSAGE

        with pytest.raises(BodyTimeout):
            asyncio.run(_receive_by(receive, time.monotonic() + 0.02))
        assert cancelled == [True]

    def test_an_error_while_waiting_reaches_the_caller(self) -> None:
        async def receive() -> Message:
            await asyncio.sleep(0)
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            asyncio.run(_receive_by(receive, time.monotonic() + 5))
