"""Pages keep what people typed when their session ends mid-form.

A form posted on an ended session is stored as a draft (services.drafts), the browser
gets the draft's key in an HttpOnly cookie and goes to the login page with "Your
session expired. Sign in to continue."; after signing in it returns to the form, which
takes the draft back and shows it.
"""

from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from backend.core.error_handlers import is_page_request
from backend.core.errors import INVALID_CREDENTIALS, SessionExpired
from backend.core.forms import form_fields
from backend.core.redirects import safe_next
from backend.core.state import app_state
from backend.core.urls import url_path
from backend.services import drafts as draft_service

DRAFT_COOKIE = "form_draft"
# The forms whose drafts are kept: the route a form posts to, and the page that shows it.
FORM_PAGES = {
    "add_todo_submit": "add_todo_page",
    "edit_todo_submit": "edit_todo_page",
    "account_phone_submit": "account_page",
}


async def session_expired_page(request: Request, _exc: SessionExpired) -> Response:
    """Keep the posted form (when it is one of ours) and send the person to sign in.

    JSON callers get the usual 401.
    """
    if not is_page_request(request):
        return JSONResponse({"detail": INVALID_CREDENTIALS}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    route = request.scope.get("route")
    name = getattr(route, "name", "")
    fields = await form_fields(request) if "form" in request.headers.get("content-type", "") else {}
    page = FORM_PAGES.get(name)
    if page:
        next_path = url_path(request, page, **request.path_params)
    else:
        next_path = safe_next(fields.get("return_to"), url_path(request, "todo_page"))
    login = url_path(request, "login_page") + "?" + urlencode({"next": next_path, "expired": 1})
    response = RedirectResponse(login, status_code=303)
    if page and fields:
        state = app_state(request)
        throttle = state.throttle
        await throttle.consume(throttle.limits.write, "draft", request.client.host if request.client else "")
        key = await state.db.write(draft_service.save, path=next_path, fields=fields)
        response.set_cookie(
            DRAFT_COOKIE,
            key,
            max_age=draft_service.DRAFT_MINUTES * 60,
            path="/",
            httponly=True,
            samesite="lax",
            secure=state.settings.is_production,
        )
    return response


async def restore_draft(request: Request) -> dict[str, str] | None:
    """The draft kept for this form page, once; None when there is none."""
    key = request.cookies.get(DRAFT_COOKIE)
    if not key or len(key) > 64:
        return None
    return await app_state(request).db.write(draft_service.take, key=key, path=request.url.path)


def forget_draft(response: Response) -> None:
    """Drop the draft cookie (the draft itself is deleted when taken)."""
    response.delete_cookie(DRAFT_COOKIE, path="/", httponly=True, samesite="lax")
