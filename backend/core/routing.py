"""The `/todos/todos` routing quirk, handled in one place.

The API contract has both `GET /todos/{todo_id}` and `POST /todos/todos` (and since the
export and import, `GET /todos/export` and `POST /todos/import`). Left alone,
Starlette would match `GET /todos/todos` to the first (a 422 for the id "todos") and, on
a 405, take `Allow` from the first route whose path matches (naming GET instead of POST).
So the id segment never matches the literal `todos`, and a 405's `Allow` comes from the
OpenAPI paths, where the most literal template wins.
"""

import re

from starlette.convertors import StringConvertor, register_url_convertor
from starlette.requests import Request


class TodoIdSegment(StringConvertor):
    """`{todo_id:todo_id}`: any segment but the literal siblings `todos`, `export`, `import`, `trash`, `quick`
    (so `GET /todos/import`, say, is a 405 naming POST, not a 422 for the id "import").

    Every other bad id still reaches FastAPI's validation and gets its 422.
    """

    regex = r"(?!(?:todos|export|import|trash|quick)(?:/|$))[^/]+"


def register_todo_id() -> None:
    """Make `{todo_id:todo_id}` known to the router (before the routes are declared)."""
    register_url_convertor("todo_id", TodoIdSegment())


def allowed_methods(request: Request) -> str | None:
    """Allow for a 405 from the OpenAPI paths: the most literal template matching the path."""
    best, methods = -1, set[str]()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if not re.fullmatch(pattern, request.url.path):
            continue
        literal = sum(1 for part in template.split("/") if part and not part.startswith("{"))
        found = {method.upper() for method in operations}
        if literal > best:
            best, methods = literal, found
        elif literal == best:
            methods |= found
    return ", ".join(sorted(methods)) if methods else None
