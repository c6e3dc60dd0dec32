"""The colour theme: `PUT /user/theme` for the header switch's script, and the switch's
form post for pages without JavaScript (saved, then back to the page it was on)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from backend.core.errors import InvalidInput
from backend.core.redirects import safe_next
from backend.core.urls import url_path
from backend.core.validation import public_errors
from backend.dependencies import CurrentUser, DbDep, mark_page
from backend.routers.users import COOKIE_WRITE_ERRORS
from backend.schemas.errors import BODY_ERRORS, UNAVAILABLE
from backend.schemas.forms import ThemeForm
from backend.schemas.users import ThemeChange
from backend.services import users as user_service

router = APIRouter(prefix="/user", tags=["users"], responses=UNAVAILABLE)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])


@router.put("/theme", status_code=204, responses=COOKIE_WRITE_ERRORS | BODY_ERRORS)
async def set_theme(body: ThemeChange, principal: CurrentUser, db: DbDep) -> Response:
    """Set the pages' colour theme: "system" (the device's setting), "light" or "dark"."""
    await db.write(user_service.set_theme, principal=principal, theme=body.theme)
    return Response(status_code=204)


@pages.post("/theme-page", name="theme_submit", response_model=None)
async def theme_submit(
    request: Request, principal: CurrentUser, db: DbDep, form: Annotated[ThemeForm, Form(default_factory=ThemeForm)]
) -> Response:
    """The header's theme switch without JavaScript: save the theme, then show the same page."""
    try:
        body = ThemeChange.model_validate({"theme": form.theme})
    except ValidationError as exc:
        raise InvalidInput(public_errors(exc.errors())) from exc
    await db.write(user_service.set_theme, principal=principal, theme=body.theme)
    return RedirectResponse(safe_next(form.return_to, url_path(request, "todo_page")), status_code=303)
