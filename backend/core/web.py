"""Templates, versioned static files, security headers, redirects and form fields."""

import hashlib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Scope

from backend.core.config import Settings
from backend.core.state import app_state
from backend.core.urls import template_url

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"
TEMPLATES_DIR = FRONTEND_DIR / "templates"
STATIC_DIR = FRONTEND_DIR / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"


def static_version(directory: Path = STATIC_DIR) -> str:
    """One version for the whole static tree: any changed file changes it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class VersionedStaticFiles(StaticFiles):
    """Serves /static/<version>/<path> for a year; unversioned paths must revalidate.

    The version is a path segment rather than a query string so that ES module imports
    (`./api.js`) inherit it and can never mix files from two releases.
    """

    def __init__(self, *, directory: Path, version: str) -> None:
        super().__init__(directory=directory)
        self.version = version

    async def get_response(self, path: str, scope: Scope) -> Response:
        head, _, rest = path.partition("/")
        versioned = head == self.version and bool(rest)
        response = await super().get_response(rest if versioned else path, scope)
        response.headers["Cache-Control"] = IMMUTABLE if versioned else "no-cache"
        return response


def build_templates(version: str) -> Jinja2Templates:
    """The Jinja2 environment (autoescape on), with `static_url()` for assets and
    `url(name, **params)` for the path of a route."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.globals["static_url"] = lambda path: f"/static/{version}/{path}"
    templates.env.globals["url"] = template_url
    return templates


def render(request: Request, name: str, context: Mapping[str, object], status_code: int = 200) -> HTMLResponse:
    """Render a page; base.html gets the signed-in user and CSRF token from request.state."""
    templates = app_state(request).templates
    page = {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
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


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """CSP and friends for every response; HSTS in production."""
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]
    if settings.is_production:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


def safe_next(target: str | None, default: str) -> str:
    """Only a same-site relative path may follow a login: no open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return default
    return target


def same_origin(request: Request) -> bool:
    """Browsers send Origin on form posts; a foreign one means a cross-site post."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def form_fields(request: Request) -> dict[str, str]:
    """A submitted form's text fields, without the CSRF token."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def with_query(path: str, params: dict[str, object]) -> str:
    """`path?…` from the params that are set (None and "" are left out)."""
    kept = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path
