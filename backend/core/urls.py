"""Paths of routes by name: `url_path(request, "edit_todo_page", todo_id=3)` in Python and
`url("edit_todo_page", todo_id=3)` in templates, never a page's path written out."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from jinja2 import pass_context
from jinja2.runtime import Context

from backend.core.state import app_state


def url_path(request: Request, name: str, /, **params: object) -> str:
    """The path of the route called `name`."""
    return app_state(request).paths.path(request.app.routes, name, **params)


def redirect_to(request: Request, name: str, /, **params: object) -> RedirectResponse:
    """303 See Other to the route called `name` (after a form post)."""
    return RedirectResponse(url_path(request, name, **params), status_code=303)


@pass_context
def template_url(context: Context, name: str, /, **params: object) -> str:
    """`url(name, **params)` in templates: the path of the route called `name`."""
    request: Request = context["request"]
    return url_path(request, name, **params)
