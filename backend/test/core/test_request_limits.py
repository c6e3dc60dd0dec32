"""What a client may send: the body size limit says the size that is really in force."""

from fastapi.testclient import TestClient

from backend.core.request_limits import size_text, too_large_message
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
