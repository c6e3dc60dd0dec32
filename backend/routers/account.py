"""Your account: names, email (with the current password) and deleting it all (with the password too).

The JSON routes sit under `/user` beside the others in routers/users.py; the page forms post
to `/account-page/…` and answer with the account page (its `_account` renderer).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from backend.core.errors import AppError, InvalidInput
from backend.core.sessions import clear_session_cookie
from backend.core.urls import url_path
from backend.core.validation import field_errors
from backend.dependencies import AuthDep, ClientIP, CurrentUser, DbDep, mark_page
from backend.models import User
from backend.routers.users import COOKIE_WRITE_ERRORS, account_page_with
from backend.schemas.errors import BODY_ERRORS, UNAVAILABLE, error_responses
from backend.schemas.forms import DeleteAccountForm, EmailForm, ProfileForm
from backend.schemas.users import AccountDeletion, EmailChange, ProfileChange, UserRead
from backend.services import auth as auth_service
from backend.services import users as user_service
from backend.services.auth import AuthContext
from backend.services.principal import Principal

router = APIRouter(prefix="/user", tags=["users"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
PASSWORD_CHECKED = COOKIE_WRITE_ERRORS | BODY_ERRORS | error_responses(400)


@router.put("/profile", response_model=UserRead, responses=COOKIE_WRITE_ERRORS | BODY_ERRORS)
async def set_profile(body: ProfileChange, principal: CurrentUser, db: DbDep) -> User:
    """Change your first and last name."""
    user: User = await db.write(
        user_service.set_names, principal=principal, first_name=body.first_name, last_name=body.last_name
    )
    return user


async def _change_email(auth: AuthContext, principal: Principal, body: EmailChange, ip: str) -> User:
    await auth_service.confirm_password(
        auth, principal=principal, password=body.password, client_ip=ip, action="email change"
    )
    user: User = await auth.db.write(user_service.set_email, principal=principal, email=str(body.email))
    return user


@router.put("/email", response_model=UserRead, responses=PASSWORD_CHECKED | error_responses(409))
async def set_email(body: EmailChange, principal: CurrentUser, auth: AuthDep, ip: ClientIP) -> User:
    """Change your email address; the current password confirms it (400 when wrong, 409 when taken)."""
    return await _change_email(auth, principal, body, ip)


async def _delete_account(auth: AuthContext, principal: Principal, password: str, ip: str) -> None:
    await auth_service.confirm_password(
        auth, principal=principal, password=password, client_ip=ip, action="account deletion"
    )
    await auth.db.write(user_service.delete_own, principal=principal)


@router.delete("/", status_code=204, responses=PASSWORD_CHECKED | error_responses(409))
async def delete_account(body: AccountDeletion, principal: CurrentUser, auth: AuthDep, ip: ClientIP) -> Response:
    """Delete your account and everything in it, for good; the password confirms it. The last admin cannot (409)."""
    await _delete_account(auth, principal, body.password, ip)
    response = Response(status_code=204)
    if principal.via_cookie:
        clear_session_cookie(response, auth.settings)
    return response


# --- pages ------------------------------------------------------------------------------


@pages.post("/account-page/profile", name="account_profile_submit", response_model=None)
async def account_profile_submit(
    request: Request, principal: CurrentUser, db: DbDep, form: Annotated[ProfileForm, Form(default_factory=ProfileForm)]
) -> Response:
    """Save the names from the form."""
    try:
        body = ProfileChange.model_validate(form.model_dump())
    except ValidationError as exc:
        return await account_page_with(
            request, principal, db, errors=field_errors(exc.errors()), status=422, values=form.model_dump()
        )
    await db.write(user_service.set_names, principal=principal, first_name=body.first_name, last_name=body.last_name)
    return await account_page_with(request, principal, db, notice="Name saved.")


@pages.post("/account-page/email", name="account_email_submit", response_model=None)
async def account_email_submit(
    request: Request,
    principal: CurrentUser,
    auth: AuthDep,
    ip: ClientIP,
    form: Annotated[EmailForm, Form(default_factory=EmailForm)],
) -> Response:
    """Change the email from the form (with the current password)."""
    values = {"email": form.email}
    try:
        await _change_email(auth, principal, EmailChange.model_validate(form.model_dump()), ip)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
        return await account_page_with(request, principal, auth.db, errors=errors, status=422, values=values)
    except AppError as exc:
        field = "email" if exc.status_code == 409 else "email_password"
        errors = field_errors(exc.errors) if isinstance(exc, InvalidInput) else {field: [exc.message]}
        return await account_page_with(
            request, principal, auth.db, errors=errors, status=exc.status_code, values=values
        )
    return await account_page_with(request, principal, auth.db, notice="Email address saved.")


@pages.post("/account-page/delete", name="account_delete_submit", response_model=None)
async def account_delete_submit(
    request: Request,
    principal: CurrentUser,
    auth: AuthDep,
    ip: ClientIP,
    form: Annotated[DeleteAccountForm, Form(default_factory=DeleteAccountForm)],
) -> Response:
    """Delete the account from the form (with the password); the session ends, back to the login page."""
    try:
        await _delete_account(auth, principal, form.delete_password, ip)
    except AppError as exc:
        return await account_page_with(
            request, principal, auth.db, errors={"delete_password": [exc.message]}, status=exc.status_code
        )
    response = RedirectResponse(url_path(request, "login_page") + "?deleted=1", status_code=303)
    clear_session_cookie(response, auth.settings)
    return response
