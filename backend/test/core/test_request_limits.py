"""What a client may send: the body size limit says the size that is really in force, and
a large body does not outlive its request."""

import gc
import weakref

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from backend.core.memory import LARGE_BODY_BYTES
from backend.core.request_limits import RequestLimitsMiddleware, size_text, too_large_message
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


class Node:
    """Something a weak reference can follow, put in a reference cycle by the app below."""

    def __init__(self) -> None:
        self.me = self


def cycle_making_app(made: list[weakref.ref[Node]]) -> RequestLimitsMiddleware:
    """An app that reads the body, leaves a cycle behind and answers 204."""

    async def app(_scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        made.append(weakref.ref(Node()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return RequestLimitsMiddleware(app, max_bytes=1024 * 1024, body_timeout=5.0)


class TestCollectionAfterLargeBodies:
    """A large body's request is followed by a collection, so cycles holding it go at once."""

    @pytest.mark.parametrize(("size", "freed"), [(LARGE_BODY_BYTES + 1, True), (LARGE_BODY_BYTES, False)])
    def test_only_a_large_body_is_followed_by_a_collection(self, size: int, freed: bool) -> None:
        made: list[weakref.ref[Node]] = []
        client = TestClient(cycle_making_app(made))
        gc.disable()  # only the middleware's own collection may run
        try:
            response = client.post("/", content=b"x" * size)
            alive = made[0]() is not None
        finally:
            gc.enable()

        assert response.status_code == 204
        assert alive is not freed
