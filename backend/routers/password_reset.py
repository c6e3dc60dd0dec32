"""Forgotten passwords: the JSON endpoints and the two pages, all on services/password_reset.py."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import ValidationError

from backend.core.errors import AppError, InvalidInput
from backend.core.security import password_help_texts
from backend.core.state import app_state
from backend.core.templating import render
from backend.core.urls import url_path
from backend.core.validation import field_errors
from backend.dependencies import AuthDep, ClientIP, mark_page
from backend.jobs.registry import send_password_reset
from backend.routers.auth import same_origin_post
from backend.schemas.errors import BODY_ERRORS, UNAVAILABLE, error_responses
from backend.schemas.forms import ForgotPasswordForm, ResetPasswordForm
from backend.schemas.password_reset import PasswordResetConfirm, PasswordResetRequest
from backend.services import password_reset as reset_service
from backend.services.auth import AuthContext

logger = logging.getLogger("backend.auth")
router = APIRouter(tags=["auth"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
SAME_ORIGIN = [Depends(same_origin_post)]  # a form another site posts is refused
ACCEPTED = {202: {"description": "Accepted, whether or not the address has an account"}}


async def _request_link(request: Request, auth: AuthContext, address: str, ip: str) -> None:
    """Count the request, then let a job look the address up and mail the link."""
    address = await reset_service.request_reset(auth, address=address, client_ip=ip)
    settings = auth.settings
    base_url = settings.PUBLIC_URL or (None if settings.is_production else str(request.base_url))
    if base_url is None:
        logger.error("PUBLIC_URL is not set: no password-reset mail can be sent in production")
        return
    link = base_url.rstrip("/") + url_path(request, "reset_password_page")
    app_state(request).background.queue.enqueue_or_log(send_password_reset, address=address, link=link)


@router.post("/auth/password-reset", status_code=202, responses=ACCEPTED | BODY_ERRORS | error_responses(429))
async def request_password_reset(
    request: Request, data: PasswordResetRequest, auth: AuthDep, ip: ClientIP
) -> JSONResponse:
    """Mail a reset link to the address if it has an account; the answer never says whether it does."""
    await _request_link(request, auth, data.email, ip)
    return JSONResponse({"detail": reset_service.REQUESTED}, status_code=202)


@router.post("/auth/password-reset/confirm", status_code=204, responses=BODY_ERRORS)
async def confirm_password_reset(data: PasswordResetConfirm, auth: AuthDep, ip: ClientIP) -> Response:
    """Set a new password with the mailed token; every session of the account ends."""
    await reset_service.confirm(auth, token=data.token, new_password=data.new_password, client_ip=ip)
    return Response(status_code=204)


# --- pages ------------------------------------------------------------------------------


@pages.get("/forgot-password-page", response_class=HTMLResponse, name="forgot_password_page")
async def forgot_password_page(request: Request) -> HTMLResponse:
    """Ask for the address to send a reset link to."""
    return render(request, "forgot_password.html", {"email": "", "error": None, "sent": False})


@pages.post("/forgot-password-page", name="forgot_password_submit", response_model=None, dependencies=SAME_ORIGIN)
async def forgot_password_submit(
    request: Request,
    auth: AuthDep,
    ip: ClientIP,
    form: Annotated[ForgotPasswordForm, Form(default_factory=ForgotPasswordForm)],
) -> Response:
    """Send the link (if the address has an account) and say so either way."""
    email = form.email
    try:
        data = PasswordResetRequest.model_validate(form.model_dump())
        await _request_link(request, auth, data.email, ip)
    except ValidationError:
        context = {"email": email, "error": "Enter the email address of your account.", "sent": False}
        return render(request, "forgot_password.html", context, status_code=422)
    except AppError as exc:
        context = {"email": email, "error": exc.message, "sent": False}
        return render(request, "forgot_password.html", context, status_code=exc.status_code)
    return render(request, "forgot_password.html", {"email": email, "error": None, "sent": True})


def _reset_context(token: str, errors: dict[str, list[str]], message: str | None) -> dict[str, object]:
    return {"token": token, "errors": errors, "error": message, "password_help": password_help_texts()}


@pages.get("/reset-password-page", response_class=HTMLResponse, name="reset_password_page")
async def reset_password_page(request: Request, token: str = "") -> HTMLResponse:
    """The new-password form for a mailed link (the token travels on in the form's body)."""
    return render(request, "reset_password.html", _reset_context(token, {}, None))


@pages.post("/reset-password-page", name="reset_password_submit", response_model=None, dependencies=SAME_ORIGIN)
async def reset_password_submit(
    request: Request,
    auth: AuthDep,
    ip: ClientIP,
    form: Annotated[ResetPasswordForm, Form(default_factory=ResetPasswordForm)],
) -> Response:
    """Set the new password, then on to the login page."""
    token = form.token
    try:
        data = PasswordResetConfirm.model_validate(form.model_dump())
        await reset_service.confirm(auth, token=data.token, new_password=data.new_password, client_ip=ip)
    except ValidationError as exc:
        errors = field_errors([dict(error) for error in exc.errors()])
        return render(request, "reset_password.html", _reset_context(token, errors, None), 422)
    except InvalidInput as exc:  # the password policy
        return render(request, "reset_password.html", _reset_context(token, field_errors(exc.errors), None), 422)
    except AppError as exc:  # a bad, used or expired link
        return render(request, "reset_password.html", _reset_context(token, {}, exc.message), exc.status_code)
    return RedirectResponse(url_path(request, "login_page") + "?reset=1", status_code=303)
