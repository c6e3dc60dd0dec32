"""Logging in and out: the JSON token endpoints and the login / sign-up pages."""

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from backend.core.errors import AppError, InvalidInput, NotAuthenticated, PermissionDenied, RateLimited
from backend.core.forms import same_origin
from backend.core.redirects import safe_next
from backend.core.security import password_help_texts
from backend.core.sessions import clear_session_cookie, set_session_cookie
from backend.core.templating import render
from backend.core.tokens import IssuedToken
from backend.core.urls import redirect_to, url_path
from backend.core.validation import field_errors
from backend.dependencies import (
    AuthDep,
    BasicCredentials,
    ClientIP,
    CurrentUser,
    DbDep,
    OptionalUser,
    SettingsDep,
    mark_page,
)
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, UNAVAILABLE, error_responses
from backend.schemas.forms import LoginForm, RegisterForm
from backend.schemas.users import TokenResponse, UserCreate
from backend.services import auth as auth_service
from backend.services import users as user_service
from backend.services.auth import AuthContext

logger = logging.getLogger("backend.auth")
router = APIRouter(tags=["auth"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
LOGIN_ERRORS = error_responses(401, 429)


def _token_body(issued: IssuedToken) -> TokenResponse:
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


@router.get("/login", response_model=TokenResponse, responses=LOGIN_ERRORS)
async def login_basic(credentials: BasicCredentials, auth: AuthDep, ip: ClientIP) -> TokenResponse:
    """Exchange HTTP Basic credentials for a bearer token (`curl -u user:pw /login`)."""
    if credentials is None or not credentials.username:
        raise NotAuthenticated("Not authenticated", scheme="Basic")
    issued = await auth_service.login(auth, username=credentials.username, password=credentials.password, client_ip=ip)
    return _token_body(issued)


# The operation id (and the body schema's name) FastAPI derived from the old name, kept
# so the OpenAPI document and clients generated from it do not change.
@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses=LOGIN_ERRORS | BODY_ERRORS,
    operation_id="login_form_auth_token_post",
)
async def login_oauth2(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], auth: AuthDep, ip: ClientIP
) -> TokenResponse:
    """OAuth2 password flow (used by the /docs "Authorize" button)."""
    try:
        issued = await auth_service.login(auth, username=form.username, password=form.password, client_ip=ip)
    except NotAuthenticated as exc:
        raise NotAuthenticated(exc.message, scheme="Bearer") from None
    return _token_body(issued)


@router.post("/auth/logout", status_code=204, responses=AUTH_ERRORS | error_responses(403))
async def logout(principal: CurrentUser, db: DbDep, settings: SettingsDep, ip: ClientIP) -> Response:
    """Revoke the presented token (bearer or session cookie); it is refused from now on."""
    await db.write(
        user_service.revoke_token,
        user_id=principal.id,
        session_id=principal.session_id,
        expires_at=principal.expires_at,
    )
    logger.info("logout", extra={"event": "logout", "user_id": principal.id, "client": ip})
    response = Response(status_code=204)
    if principal.via_cookie:
        clear_session_cookie(response, settings)
    return response


# --- pages ------------------------------------------------------------------------------


async def same_origin_post(request: Request) -> None:
    """Signing in or up from a form another site posted is refused (login CSRF)."""
    if not same_origin(request):
        raise PermissionDenied("Cross-site form post refused")


def _signed_in(request: Request, auth: AuthContext, issued: IssuedToken, next_path: str = "") -> RedirectResponse:
    """On to `next_path` (the todo list by default) with the new session cookie."""
    response = RedirectResponse(next_path or url_path(request, "todo_page"), status_code=303)
    set_session_cookie(response, auth.settings, issued.token, issued.expires_in)
    return response


@pages.get("/", name="home")
async def home(request: Request, principal: OptionalUser) -> RedirectResponse:
    """To the todo list with a live session, else to the login page."""
    return redirect_to(request, "todo_page" if principal else "login_page")


SESSION_EXPIRED = "Your session expired. Sign in to continue."


@pages.get("/login-page", response_class=HTMLResponse, name="login_page")
async def login_page(request: Request, next: str | None = None, expired: str | None = None) -> HTMLResponse:
    """The login form ("Your session expired" when a form was posted on an ended session)."""
    notice = SESSION_EXPIRED if expired else None
    context = {"next": safe_next(next, ""), "username": "", "error": None, "notice": notice}
    return render(request, "login.html", context)


@pages.post("/login-page", name="login_form_submit", response_model=None, dependencies=[Depends(same_origin_post)])
async def login_page_submit(
    request: Request, auth: AuthDep, ip: ClientIP, form: Annotated[LoginForm, Form(default_factory=LoginForm)]
) -> Response:
    """Log in from the form: set the session cookie and go on to `next`."""
    next_path = safe_next(form.next, "")
    try:
        if not form.username or not form.password:
            raise NotAuthenticated(auth_service.LOGIN_FAILED)
        issued = await auth_service.login(auth, username=form.username, password=form.password, client_ip=ip)
    except (NotAuthenticated, RateLimited) as exc:
        context = {"next": next_path, "username": form.username, "error": exc.message, "notice": None}
        response = render(request, "login.html", context, status_code=exc.status_code)
        if exc.headers and "Retry-After" in exc.headers:
            response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response
    return _signed_in(request, auth, issued, next_path)


@pages.get("/register-page", response_class=HTMLResponse, name="register_page")
async def register_page(request: Request) -> HTMLResponse:
    """The sign-up form."""
    return render(request, "register.html", _register_context({}, {}, None))


def _register_context(values: dict[str, str], errors: dict[str, list[str]], message: str | None) -> dict[str, object]:
    kept = {k: v for k, v in values.items() if "password" not in k}
    return {"values": kept, "errors": errors, "message": message, "password_help": password_help_texts()}


def _signup_data(values: dict[str, str]) -> UserCreate:
    """The sign-up form as UserCreate, or InvalidInput listing every problem at once:
    the schema's and the password policy's together."""
    try:
        data = UserCreate.model_validate(values)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [dict(error) for error in exc.errors()]
        if not any(error["loc"] and error["loc"][0] == "password" for error in errors):
            errors += _policy_errors(values)
        raise InvalidInput(errors) from None
    auth_service.check_signup_password(data)
    return data


def _policy_errors(values: dict[str, str]) -> list[Any]:
    try:
        auth_service.check_password_policy(
            values.get("password", ""),
            username=values.get("username", ""),
            email=values.get("email", ""),
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
        )
    except InvalidInput as exc:
        return exc.errors
    return []


@pages.post(
    "/register-page", name="register_form_submit", response_model=None, dependencies=[Depends(same_origin_post)]
)
async def register_page_submit(
    request: Request, auth: AuthDep, ip: ClientIP, form: Annotated[RegisterForm, Form(default_factory=RegisterForm)]
) -> Response:
    """Sign up from the form; errors are shown beside their fields, success logs in."""
    values = form.fields()
    try:
        await auth_service.count_signup(auth, client_ip=ip)
        data = _signup_data(values)
        await auth_service.register(auth, data=data, client_ip=ip)
        issued = await auth_service.login(auth, username=data.username, password=data.password, client_ip=ip)
    except InvalidInput as exc:
        context = _register_context(values, field_errors(exc.errors), "Please correct the fields marked below.")
        return render(request, "register.html", context, status_code=422)
    except AppError as exc:  # 409 taken name or email, 429 throttled
        field = "username" if "Username" in exc.message else "email" if "Email" in exc.message else "form"
        context = _register_context(values, {field: [exc.message]}, exc.message)
        return render(request, "register.html", context, status_code=exc.status_code)
    return _signed_in(request, auth, issued)


@pages.post("/logout-page", name="logout_page")
async def logout_page(
    request: Request, principal: CurrentUser, db: DbDep, settings: SettingsDep, ip: ClientIP
) -> RedirectResponse:
    """The logout button: revoke the session server-side, clear the cookie."""
    await logout(principal, db, settings, ip)
    response = redirect_to(request, "login_page")
    clear_session_cookie(response, settings)
    return response
