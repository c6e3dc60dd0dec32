"""Accounts: sign-up, the current user, password, phone number, time zone and calendar
address, the account page."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import AfterValidator, StringConstraints, ValidationError
from starlette.convertors import PathConvertor, register_url_convertor

from backend.core.errors import AppError, InvalidInput
from backend.core.sessions import clear_session_cookie
from backend.core.state import app_state
from backend.core.templating import render
from backend.core.urls import url_path
from backend.core.validation import field_errors
from backend.core.zones import MAX_ZONE_CHARS, ZONE_MESSAGE, listed_zones
from backend.dependencies import AuthDep, ClientIP, CurrentUser, DbDep, SettingsDep, mark_page
from backend.models import User
from backend.routers.calendar import feed_url
from backend.routers.drafts import forget_draft, restore_draft
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, UNAVAILABLE, error_responses
from backend.schemas.forms import PasswordForm, PhoneForm, TimezoneForm
from backend.schemas.users import (
    PHONE_INPUT_PATTERN,
    PHONE_MESSAGE,
    CalendarFeed,
    PasswordChange,
    UserCreate,
    UserRead,
    check_zone,
    normalize_phone,
)
from backend.services import auth as auth_service
from backend.services import users as user_service
from backend.services.principal import Principal

router = APIRouter(prefix="/user", tags=["users"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
PhoneNumber = Annotated[
    str,
    StringConstraints(max_length=40, pattern=PHONE_INPUT_PATTERN),
    AfterValidator(normalize_phone),
    Path(
        description="7–15 digits with an optional `+`; spaces, dots, dashes and brackets are removed",
        examples=["+15551234567"],
    ),
]


class ZonePath(PathConvertor):
    """`{timezone:zone}`: the rest of the path, `/` included, so a name whose `/` arrives
    encoded (`Europe%2FBerlin`, which the server decodes before routing) matches as well as
    one sent with a plain `/`. Unlike `path`, it also takes control characters, so every
    name that is not a zone gets the 422 that says so, never a 404."""

    regex = r"[\s\S]*"


register_url_convertor("zone", ZonePath())
TimeZone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ZONE_CHARS),
    AfterValidator(check_zone),
    Path(
        description="An IANA time zone name, exactly as spelt in the tz database; encode its `/` as `%2F` "
        "(a plain `/` works too)",
        examples=["Europe/Berlin"],
    ),
]
COOKIE_WRITE_ERRORS = AUTH_ERRORS | error_responses(403, 429)
NOTICES = {"calendar": "Your calendar address was changed. The old one no longer works."}


async def count_signup(auth: AuthDep, ip: ClientIP) -> None:
    """Every sign-up attempt counts, before its body is validated."""
    await auth_service.count_signup(auth, client_ip=ip)


@router.post(
    "/register",
    status_code=201,
    response_model=UserRead,
    responses=BODY_ERRORS | error_responses(409, 429),
    dependencies=[Depends(count_signup)],
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
    await auth_service.change_password(
        auth, principal=principal, current=body.password, new=body.new_password, client_ip=ip
    )
    return Response(status_code=204)


@router.put("/phonenumber/{phone_number}", status_code=204, responses=COOKIE_WRITE_ERRORS)
async def set_phone_number(phone_number: PhoneNumber, principal: CurrentUser, db: DbDep) -> Response:
    """Set the signed-in user's phone number (stored as digits with an optional `+`)."""
    await db.write(user_service.set_phone_number, principal=principal, phone_number=phone_number)
    return Response(status_code=204)


@router.put("/timezone/{timezone:zone}", status_code=204, responses=COOKIE_WRITE_ERRORS)
async def set_timezone(timezone: TimeZone, principal: CurrentUser, db: DbDep) -> Response:
    """Set the signed-in user's time zone: pages show "today", "Overdue" and due times in it."""
    await db.write(user_service.set_timezone, principal=principal, timezone=timezone)
    return Response(status_code=204)


@router.get("/calendar", response_model=CalendarFeed, responses=AUTH_ERRORS)
async def read_calendar_feed(
    request: Request, principal: CurrentUser, db: DbDep, settings: SettingsDep
) -> CalendarFeed:
    """The address of the caller's calendar feed (`GET /calendar/{feed_token}.ics`)."""
    token = await db.read(user_service.calendar_token, principal=principal)
    return CalendarFeed(url=feed_url(request, settings, token))


@router.post("/calendar/rotate", response_model=CalendarFeed, responses=COOKIE_WRITE_ERRORS)
async def rotate_calendar_feed(
    request: Request, principal: CurrentUser, db: DbDep, settings: SettingsDep
) -> CalendarFeed:
    """Give the calendar feed a new address; the old one answers 404 from now on."""
    token = await db.write(user_service.rotate_calendar_token, principal=principal)
    return CalendarFeed(url=feed_url(request, settings, token))


# --- pages ------------------------------------------------------------------------------


async def account_page_with(
    request: Request,
    principal: Principal,
    db: DbDep,
    *,
    errors: dict[str, list[str]] | None = None,
    notice: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """The account page with a form's errors or a notice (routers/account.py uses it too)."""
    user = await db.read(user_service.get_by_id, user_id=principal.id)
    context = {
        "user": user,
        "calendar_url": feed_url(request, app_state(request).settings, user.calendar_token),
        "errors": errors or {},
        "notice": notice,
        "values": values or {},
        "zones": listed_zones(),
    }
    return render(request, "account.html", context, status_code=status)


@pages.get("/account-page", response_class=HTMLResponse, name="account_page")
async def account_page(request: Request, principal: CurrentUser, db: DbDep) -> HTMLResponse:
    """Password, phone number, time zone and calendar address (with what was typed before a
    session ended, and the notice of a change that redirected here)."""
    draft = await restore_draft(request)
    notice = NOTICES.get(request.query_params.get("changed", ""))
    response = await account_page_with(request, principal, db, values=draft, notice=notice)
    if draft is not None:
        forget_draft(response)
    return response


@pages.post("/account-page/password", name="account_password_submit", response_model=None)
async def account_password_submit(
    request: Request,
    principal: CurrentUser,
    auth: AuthDep,
    ip: ClientIP,
    form: Annotated[PasswordForm, Form(default_factory=PasswordForm)],
) -> Response:
    """Change the password from the form; the session ends and the user logs in again."""
    try:
        body = PasswordChange.model_validate(form.model_dump())
        await auth_service.change_password(
            auth, principal=principal, current=body.password, new=body.new_password, client_ip=ip
        )
    except ValidationError as exc:
        return await account_page_with(request, principal, auth.db, errors=field_errors(exc.errors()), status=422)
    except AppError as exc:
        errors = field_errors(exc.errors) if isinstance(exc, InvalidInput) else {"password": [exc.message]}
        return await account_page_with(request, principal, auth.db, errors=errors, status=exc.status_code)
    response = RedirectResponse(url_path(request, "login_page") + "?changed=1", status_code=303)
    clear_session_cookie(response, auth.settings)
    return response


@pages.post("/account-page/phone", name="account_phone_submit", response_model=None)
async def account_phone_submit(
    request: Request, principal: CurrentUser, db: DbDep, form: Annotated[PhoneForm, Form(default_factory=PhoneForm)]
) -> Response:
    """Set or clear the phone number from the form."""
    phone = form.phone_number
    try:
        normalized = normalize_phone(phone) if phone else None
    except ValueError:
        errors = {"phone_number": [PHONE_MESSAGE]}
        return await account_page_with(
            request, principal, db, errors=errors, status=422, values={"phone_number": phone}
        )
    await db.write(user_service.set_phone_number, principal=principal, phone_number=normalized)
    return await account_page_with(request, principal, db, notice="Phone number saved.")


@pages.post("/account-page/timezone", name="account_timezone_submit", response_model=None)
async def account_timezone_submit(
    request: Request,
    principal: CurrentUser,
    db: DbDep,
    form: Annotated[TimezoneForm, Form(default_factory=TimezoneForm)],
) -> Response:
    """Set the time zone from the form (the page's script may have filled in the browser's)."""
    try:
        timezone = check_zone(form.timezone)
    except ValueError:
        errors = {"timezone": [ZONE_MESSAGE]}
        return await account_page_with(
            request, principal, db, errors=errors, status=422, values={"timezone": form.timezone}
        )
    await db.write(user_service.set_timezone, principal=principal, timezone=timezone)
    return await account_page_with(request, principal, db, notice="Time zone saved.")


@pages.post("/account-page/calendar", name="account_calendar_submit", response_model=None)
async def account_calendar_submit(request: Request, principal: CurrentUser, db: DbDep) -> Response:
    """Give the calendar feed a new address from the form; the old one stops working."""
    await db.write(user_service.rotate_calendar_token, principal=principal)
    # Redirected, so reloading the page shows the notice without changing the address again.
    return RedirectResponse(url_path(request, "account_page") + "?changed=calendar", status_code=303)
