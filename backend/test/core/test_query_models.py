"""query_model: one validation per distinct query string, shared only because the model is frozen."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from backend.core.query_models import KEPT_QUERY_BYTES, query_model
from backend.schemas.todos import TodoQuery


def request(query_string: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": query_string})


def read_with(reader: Callable[[Request], Awaitable[TodoQuery]], query_string: bytes) -> TodoQuery:
    async def call() -> TodoQuery:
        return await reader(request(query_string))

    return asyncio.run(call())


def read(query_string: bytes) -> TodoQuery:
    return read_with(query_model(TodoQuery), query_string)


class TestQueryModel:
    def test_reads_single_and_repeated_keys_as_fastapi_does(self) -> None:
        query = read(b"limit=5&limit=7&tag=home&tag=work&q=milk")

        assert (query.limit, query.tag, query.q) == (7, ["home", "work"], "milk")

    def test_a_repeated_query_string_is_validated_once(self) -> None:
        reader = query_model(TodoQuery)
        first = read_with(reader, b"limit=10")

        assert read_with(reader, b"limit=10") is first
        assert read_with(reader, b"limit=11") is not first

    def test_a_long_query_string_is_read_but_not_kept(self) -> None:
        reader = query_model(TodoQuery)
        long = b"limit=10&pad=" + b"x" * KEPT_QUERY_BYTES  # unknown keys are ignored, so it is valid

        first = read_with(reader, long)

        assert first.limit == 10
        assert read_with(reader, long) is not first

    def test_the_shared_model_cannot_be_changed(self) -> None:
        query = read(b"limit=10")

        with pytest.raises(ValidationError):
            query.limit = 20  # type: ignore[misc]

    def test_an_invalid_query_is_a_422_every_time(self) -> None:
        reader = query_model(TodoQuery)
        for _ in range(2):  # a failure is not kept as if it were an answer
            with pytest.raises(RequestValidationError) as raised:
                read_with(reader, b"limit=0")
            assert raised.value.errors()[0]["loc"] == ("query", "limit")

    def test_a_model_that_is_not_frozen_is_refused(self) -> None:
        class Open(BaseModel):
            limit: int = 1

        with pytest.raises(TypeError, match="frozen"):
            query_model(Open)
