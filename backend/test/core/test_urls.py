"""Routes are reached by name: the names in use resolve, and no page path is written out."""

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.convertors import IntegerConvertor
from starlette.routing import NoMatchFound

from backend.core.route_paths import RoutePaths
from backend.routers.drafts import FORM_PAGES

BACKEND = Path(__file__).resolve().parents[2]
TEMPLATES = BACKEND.parent / "frontend" / "templates"
# Where routes are declared, their paths are written: the first argument of these calls.
DECLARATIONS = {
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "api_route",
    "add_route",
    "add_api_route",
    "mount",
    "websocket",
}
NOT_APP = {"test", "alembic", "scripts"}
# The app's own routes that are not pages.
NOT_PAGES = {"/docs", "/openapi.json", "/metrics", "/static/"}
TEMPLATE_NAME_CALL = re.compile(r"\b(?:url|nav_link)\(\s*[\"'](\w+)[\"']")


def _routes(app: FastAPI) -> dict[str, RouteContext]:
    routes: dict[str, list[RouteContext]] = {}
    for route in iter_route_contexts(app.routes):
        if route.name:
            routes.setdefault(route.name, []).append(route)
    assert all(len(same) == 1 for same in routes.values()), "route names must be unique"
    return {name: same[0] for name, same in routes.items()}


def _sample_params(route: RouteContext) -> dict[str, object]:
    convertors = getattr(route, "param_convertors", {})
    return {key: 7 if isinstance(conv, IntegerConvertor) else "seven" for key, conv in convertors.items()}


def _app_modules() -> Iterator[Path]:
    for folder, dirs, files in os.walk(BACKEND):
        dirs[:] = sorted(d for d in dirs if d not in NOT_APP and not d.startswith((".", "__")))
        yield from (Path(folder, name) for name in sorted(files) if name.endswith(".py"))


def _strings(node: ast.AST, call: ast.Call | None = None) -> Iterator[tuple[str, ast.AST, ast.Call | None]]:
    """The string constants under `node`, each with the innermost call it is part of."""
    call = node if isinstance(node, ast.Call) else call
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value, node, call
    for child in ast.iter_child_nodes(node):
        yield from _strings(child, call)


def _python_strings() -> Iterator[tuple[Path, str, ast.AST, ast.Call | None]]:
    for path in _app_modules():
        for value, node, call in _strings(ast.parse(path.read_text(), filename=str(path))):
            yield path, value, node, call


def _called(call: ast.Call | None) -> str:
    func = call.func if call is not None else None
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _names_in_use() -> set[str]:
    names = {name for path in TEMPLATES.glob("*.html") for name in TEMPLATE_NAME_CALL.findall(path.read_text())}
    names |= {value for _, value, _node, call in _python_strings() if _called(call) in ("url_path", "redirect_to")}
    return names | set(FORM_PAGES) | set(FORM_PAGES.values())


def _page_prefixes(app: FastAPI) -> tuple[str, ...]:
    """Each page route's path up to its first parameter (the API's are in the OpenAPI document)."""
    documented = set(app.openapi()["paths"])
    paths = {route.path_format for route in _routes(app).values() if route.path_format not in documented}
    prefixes = {path.split("{")[0] for path in paths if path} - NOT_PAGES - {"/"}
    return tuple(sorted(prefixes))


class TestRoutePaths:
    def test_every_named_route_has_the_path_url_path_for_gives(self, app: FastAPI) -> None:
        paths = RoutePaths()

        for name, route in _routes(app).items():
            params = _sample_params(route)
            assert paths.path(app.routes, name, **params) == app.url_path_for(name, **params), name

    def test_an_unknown_name_is_no_match(self, app: FastAPI) -> None:
        with pytest.raises(NoMatchFound):
            RoutePaths().path(app.routes, "no_such_page")


class TestNamesNotPaths:
    def test_every_route_name_in_use_resolves(self, app: FastAPI) -> None:
        in_use = _names_in_use()

        assert {"todo_page", "login_page", "edit_todo_submit", "delete_user"} <= in_use  # the scan sees them
        assert in_use <= set(_routes(app)), f"unknown route names: {sorted(in_use - set(_routes(app)))}"

    def test_templates_write_no_paths(self) -> None:
        for path in sorted(TEMPLATES.glob("*.html")):
            written = re.findall(r"[\"']/[^\"'#]*", path.read_text())
            assert not written, f"{path.name} writes {written}: use url(name, **params) or static_url(path)"

    def test_python_writes_no_page_paths(self, app: FastAPI) -> None:
        prefixes = _page_prefixes(app)
        assert {"/todo-page", "/login-page", "/edit-todo-page/"} <= set(prefixes)
        assert not {"/todos/", "/user/"} & set(prefixes)

        for path, value, node, call in _python_strings():
            if _called(call) in DECLARATIONS and call is not None and call.args and call.args[0] is node:
                continue
            assert not value.startswith(prefixes), f"{path.relative_to(BACKEND)}: {value!r}; use url_path()"
