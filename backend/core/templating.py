"""The Jinja2 environment and page rendering, error and docs pages included."""

from collections.abc import Mapping
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from backend.core.state import app_state
from backend.core.urls import template_url

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"
TEMPLATES_DIR = FRONTEND_DIR / "templates"


def build_templates(version: str) -> Jinja2Templates:
    """The Jinja2 environment (autoescape on), with `static_url()` for assets and
    `url(name, **params)` for the path of a route."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.globals["static_url"] = lambda path: f"/static/{version}/{path}"
    templates.env.globals["url"] = template_url
    return templates


def _this_page(request: Request) -> str:
    """Where a form in the header comes back to: this page, when a GET can show it again."""
    if request.method != "GET":
        return ""
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def render(request: Request, name: str, context: Mapping[str, object], status_code: int = 200) -> HTMLResponse:
    """Render a page; base.html gets the signed-in user (theme included) and CSRF token from
    request.state."""
    templates = app_state(request).templates
    page = {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "this_page": _this_page(request),
        **context,
    }
    response = templates.TemplateResponse(request, name, page, status_code=status_code)
    assert isinstance(response, HTMLResponse)
    return response


async def docs_page(request: Request) -> HTMLResponse:
    """Swagger UI served from our own static files ("Authorize" uses POST /auth/token)."""
    return render(request, "docs.html", {"title": request.app.title, "openapi_url": request.app.openapi_url})


def render_error_page(request: Request, status: int, message: str, headers: Mapping[str, str] | None) -> Response:
    """The styled error page used for page routes."""
    response = render(request, "error.html", {"status": status, "message": message}, status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
