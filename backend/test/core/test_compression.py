"""Compression: gzip for clients that accept it; the rest get the body as it is, with Vary."""

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from backend.core.compression import Compression, with_vary

BIG = "todo " * 1000


async def page(request: Request) -> PlainTextResponse:
    vary = request.query_params.get("vary")
    return PlainTextResponse(BIG, headers={"Vary": vary} if vary else None)


@pytest.fixture
def client() -> TestClient:
    app = Compression(Starlette(routes=[Route("/", page)]), minimum_size=1024)
    return TestClient(app)


def test_a_client_accepting_gzip_gets_it(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.text == BIG  # decoded by the client


def test_other_clients_get_the_body_as_it_is_with_vary(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == BIG.encode()


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        ("Cookie", "Cookie, Accept-Encoding"),
        ("accept-encoding", "accept-encoding"),
        ("*", "*"),
    ],
)
def test_vary_is_extended_once(client: TestClient, vary: str, expected: str) -> None:
    response = client.get("/", params={"vary": vary}, headers={"Accept-Encoding": "identity"})
    assert response.headers.get_list("vary") == [expected]


def test_with_vary_keeps_every_other_header() -> None:
    headers = [(b"content-type", b"text/plain"), (b"vary", b"Origin")]
    assert with_vary(headers) == [(b"content-type", b"text/plain"), (b"vary", b"Origin, Accept-Encoding")]
    assert with_vary([]) == [(b"vary", b"Accept-Encoding")]
