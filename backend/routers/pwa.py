"""What makes the app installable and its list page readable offline: the web app manifest
and the service worker, both rendered from frontend/templates with this release's paths.

The worker is served from the root, so its scope covers every page; it keeps the list
page's last copy and the versioned static files (frontend/templates/sw.js says how).
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.core.state import app_state
from backend.core.static_files import STATIC_DIR

router = APIRouter(include_in_schema=False)
# Both are fetched by the browser on its own schedule: always revalidated, never kept stale.
REVALIDATE = {"Cache-Control": "no-cache"}
# What the list page needs to show offline besides itself, fetched when the worker installs.
SHELL = ["css/app.css", "favicon.svg", *sorted(f"js/{path.name}" for path in (STATIC_DIR / "js").glob("*.js"))]


@router.get("/manifest.webmanifest", name="web_manifest")
async def web_manifest(request: Request) -> Response:
    """The web app manifest: name, start page, colours and icons."""
    templates = app_state(request).templates
    return templates.TemplateResponse(
        request, "manifest.webmanifest", {}, media_type="application/manifest+json", headers=REVALIDATE
    )


@router.get("/sw.js", name="service_worker")
async def service_worker(request: Request) -> Response:
    """The service worker script (a new release changes it, so browsers install the new one)."""
    templates = app_state(request).templates
    return templates.TemplateResponse(
        request, "sw.js", {"shell": SHELL}, media_type="text/javascript", headers=REVALIDATE
    )
