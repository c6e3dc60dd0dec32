"""Accounts: sign-up, the current user, password and phone number, the account page."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from backend.core.errors import AppError
from backend.core.web import field_errors, form_fields, render
from backend.database.session import Database
from backend.dependencies import AuthDep, ClientIP, CurrentUser, DbDep, mark_page
from backend.models import User
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, error_responses
from backend.schemas.users import PHONE_PATTERN, PasswordChange, UserCreate, UserRead
from backend.services import auth as auth_service
from backend.services import users as user_service

router = APIRouter(prefix="/user", tags=["users"])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
PhoneNumber = Annotated[
    str, Path(pattern=PHONE_PATTERN, description="Optional `+`, then 7–15 digits", examples=["+15551234567"])
]
COOKIE_WRITE_ERRORS = AUTH_ERRORS | error_responses(403)


@router.post(
    "/register",
    status_code=201,
    response_model=UserRead,
    responses=BODY_ERRORS | error_responses(409, 429),
)
async def register(data: UserCreate, auth: AuthDep, ip: ClientIP) -> User:
    """Create an account (always with the `user` role)."""
    return await auth_service.register(auth, data=data, client_ip=ip)


@router.get("/", response_model=UserRead, responses=AUTH_ERRORS)
async def read_me(principal: CurrentUser, db: DbDep) -> User:
    """The signed-in user."""
    return await db.read(user_service.get_by_id, user_id=principal.id)


@router.put(
    "/password",
    status_code=204,
    responses=COOKIE_WRITE_ERRORS | BODY_ERRORS | error_responses(400),
)
async def change_password(body: PasswordChange, principal: CurrentUser, auth: AuthDep, ip: ClientIP) -> Response:
    """Change the password; every token issued before this stops working."""
    await _change_password(auth, principal.id, body, ip)
    return Response(status_code=204)


async def _change_password(auth: auth_service.AuthContext, user_id: int, body: PasswordChange, ip: str) -> None:
    user = await auth.db.read(user_service.get_by_id, user_id=user_id)
    await auth_service.change_password(
        auth,
        user_id=user_id,
        username=user.username,
        email=user.email,
        current=body.password,
        new=body.new_password,
        client_ip=ip,
    )


@router.put("/phonenumber/{phone_number}", status_code=204, responses=COOKIE_WRITE_ERRORS)
async def set_phone_number(phone_number: PhoneNumber, principal: CurrentUser, db: DbDep) -> Response:
    """Set the signed-in user's phone number."""
    await db.write(user_service.set_phone_number, user_id=principal.id, phone_number=phone_number)
    return Response(status_code=204)


# --- pages ------------------------------------------------------------------------------


async def _account(
    request: Request,
    principal_id: int,
    db: Database,
    *,
    errors: dict[str, list[str]] | None = None,
    notice: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    user = await db.read(user_service.get_by_id, user_id=principal_id)
    context = {"user": user, "errors": errors or {}, "notice": notice, "values": values or {}}
    return render(request, "account.html", context, status_code=status)


@pages.get("/account-page", response_class=HTMLResponse, name="account_page")
async def account_page(request: Request, principal: CurrentUser, db: DbDep) -> HTMLResponse:
    """Change password or phone number."""
    return await _account(request, principal.id, db)


@pages.post("/account-page/password", name="account_password_submit", response_model=None)
async def account_password_submit(request: Request, principal: CurrentUser, auth: AuthDep, ip: ClientIP) -> Response:
    """Change the password from the form; the session ends and the user logs in again."""
    fields = await form_fields(request)
    try:
        body = PasswordChange.model_validate(
            {"password": fields.get("password", ""), "new_password": fields.get("new_password", "")}
        )
        await _change_password(auth, principal.id, body, ip)
    except ValidationError as exc:
        return await _account(request, principal.id, auth.db, errors=field_errors(exc.errors()), status=422)
    except AppError as exc:
        field = "new_password" if exc.status_code == 422 else "password"
        return await _account(request, principal.id, auth.db, errors={field: [exc.message]}, status=exc.status_code)
    return RedirectResponse("/login-page?changed=1", status_code=303)


@pages.post("/account-page/phone", name="account_phone_submit", response_model=None)
async def account_phone_submit(request: Request, principal: CurrentUser, db: DbDep) -> Response:
    """Set or clear the phone number from the form."""
    phone = (await form_fields(request)).get("phone_number", "").strip()
    if phone and not re.fullmatch(PHONE_PATTERN, phone):
        errors = {"phone_number": ["Use an optional + and 7 to 15 digits."]}
        return await _account(request, principal.id, db, errors=errors, status=422, values={"phone_number": phone})
    await db.write(user_service.set_phone_number, user_id=principal.id, phone_number=phone or None)
    return await _account(request, principal.id, db, notice="Phone number saved.")
