"""The routers' routes sit on the app itself (`main.include_flat`), matched once per
request, and keep what including them gave: the outage's 503 in the OpenAPI document."""

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount, Route


def test_every_route_is_on_the_app_itself(app: FastAPI) -> None:
    flat = (Route, Mount, APIWebSocketRoute)
    nested = [type(route).__name__ for route in app.router.routes if not isinstance(route, flat)]

    assert nested == []
    assert sum(isinstance(route, APIRoute) for route in app.router.routes) > 50


def test_routes_keep_the_order_of_the_routers(app: FastAPI) -> None:
    paths = [route.path for route in app.router.routes if isinstance(route, APIRoute)]

    # The busiest first (main.mount_routes), and the todo id after nothing that shadows it.
    assert paths[:2] == ["/todos/", "/todos/{todo_id:todo_id}"]
    assert paths.index("/todos/export") > paths.index("/todos/{todo_id:todo_id}")


def test_every_documented_operation_names_the_outage_503(app: FastAPI) -> None:
    operations = [
        (method, path, operation)
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
    ]

    assert len(operations) > 40
    for method, path, operation in operations:
        assert "503" in operation["responses"], (method, path)
