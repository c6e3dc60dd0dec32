"""Query-string models read in one pydantic validation, documented as FastAPI documents them.

`Annotated[Model, Query()]` cost the list endpoint a sixth of its time: FastAPI inspects
every field's annotation again on every request before validating. `query_model(Model)`
gives a dependency that reads the query string the same way (a list field takes every
value of its key, any other field the last; empty lists count as absent) and validates
it once, with errors in FastAPI's shape (`loc` starting with "query"). The route passes
`openapi=query_parameters(Model)` so its OpenAPI parameters stay exactly those FastAPI
generates for the model (test_openapi_fuzz.py drives the API from them).

A client asks for the same few query strings again and again (a page polled, a script's
loop), so the model read from a query string is kept (the last 256 strings of at most
1 KiB, per model: unknown parameters are ignored, so a longer string is valid too, and
keeping it would let anyone pin memory). The model must be frozen, since every request
with that string gets the same object.
"""

import types
import typing
from collections.abc import Awaitable, Callable
from functools import cache, lru_cache
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

from backend.core.openapi_params import parameters_of

M = TypeVar("M", bound=BaseModel)


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return origin is list


QUERIES_KEPT = 256
KEPT_QUERY_BYTES = 1024


def query_model(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency returning `model` (frozen) validated from the request's query string."""
    if not model.model_config.get("frozen"):
        raise TypeError(f"{model.__name__} is shared between requests: it must be frozen")
    fields = [(name, _is_list(field.annotation)) for name, field in model.model_fields.items()]

    def validated(query_string: bytes) -> M:
        params = QueryParams(query_string)  # as `request.query_params` reads it
        values: dict[str, Any] = {}
        for name, many in fields:
            if many:
                if items := params.getlist(name):
                    values[name] = items
            elif (value := params.get(name)) is not None:
                values[name] = value
        return model.model_validate(values)  # a ValidationError is not kept

    kept = lru_cache(maxsize=QUERIES_KEPT)(validated)

    async def read(request: Request) -> M:
        query_string: bytes = request.scope["query_string"]
        try:
            return (kept if len(query_string) <= KEPT_QUERY_BYTES else validated)(query_string)
        except ValidationError as exc:
            errors = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)]
            raise RequestValidationError(errors) from None

    return read


@cache
def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting `model`'s fields as the query parameters FastAPI would
    list, and the 422 it adds to any route with parameters."""

    async def probe(query: Annotated[model, Query()]) -> None:  # type: ignore[valid-type]
        """Never served: only read for its OpenAPI parameters."""

    return parameters_of("/", probe)
