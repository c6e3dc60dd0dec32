"""Compression: gzip for clients that accept it; the rest get the body as it is. Every
answer names Accept-Encoding in Vary (`vary_on_encoding`, RequestContextMiddleware's step)."""

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from backend.core.compression import Compression, vary_on_encoding
from backend.core.middleware import RequestContextMiddleware

BIG = "todo " * 1000


async def page(request: Request) -> PlainTextResponse:
    vary = request.query_params.get("vary")
    body = "small" if request.query_params.get("small") else BIG
    return PlainTextResponse(body, headers={"Vary": vary} if vary else None)


def _compressing() -> Compression:
    return Compression(Starlette(routes=[Route("/", page)]), minimum_size=1024)


@pytest.fixture
def client() -> TestClient:
    return TestClient(RequestContextMiddleware(_compressing(), metrics=None, headers=[], steps=(vary_on_encoding,)))


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


def test_a_small_answer_to_a_gzip_client_still_names_the_encoding_in_vary(client: TestClient) -> None:
    response = client.get("/", params={"small": "1"}, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"


def test_compression_alone_passes_other_answers_through_untouched() -> None:
    response = TestClient(_compressing()).get("/", headers={"Accept-Encoding": "identity"})
    assert "vary" not in response.headers
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


def test_vary_on_encoding_keeps_every_other_header() -> None:
    headers = [(b"content-type", b"text/plain"), (b"vary", b"Origin")]
    assert vary_on_encoding({}, headers) == [(b"content-type", b"text/plain"), (b"vary", b"Origin, Accept-Encoding")]
    assert vary_on_encoding({}, []) == [(b"vary", b"Accept-Encoding")]
