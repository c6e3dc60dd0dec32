"""OpenAPI parameters for values a route reads itself, exactly as FastAPI documents them.

Each parameter FastAPI reads for a route costs every request real time: a query model's
fields were a sixth of a list (core/query_models.py), a path id or an optional header
20-30 µs of a request (docs/performance.md, issue 12). The busiest routes read such
values themselves, and document them by passing `openapi_extra=parameters_of(...)`: the
parameters FastAPI generates for a probe function that declares them, never called.
"""

from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI


def parameters_of(path: str, probe: Callable[..., Any], *, validation_error: bool = True) -> dict[str, Any]:
    """`openapi_extra` listing `probe`'s parameters for a route on `path` (its path
    parameters named alike) and, with `validation_error`, the 422 FastAPI adds to any
    route with parameters (a route with a body has it already)."""
    operation = _operation(path, probe)
    extra: dict[str, Any] = {"parameters": operation["parameters"]}
    if validation_error:
        extra["responses"] = {"422": operation["responses"]["422"]}
    return extra


def security_of(dependency: Callable[..., Any]) -> dict[str, Any]:
    """`openapi_extra` naming the security requirement FastAPI documents for a route that
    depends on `dependency` (an OAuth2 scheme), for a route that calls it itself."""

    async def probe(_: Annotated[Any, Depends(dependency)]) -> None:
        """Never served: only read for its OpenAPI security requirement."""

    return {"security": _operation("/", probe)["security"]}


def _operation(path: str, probe: Callable[..., Any]) -> dict[str, Any]:
    """The OpenAPI operation FastAPI generates for `probe` served as GET `path`."""
    app = FastAPI()
    app.add_api_route(path, probe, methods=["GET"])
    return cast(dict[str, Any], app.openapi()["paths"][path]["get"])
