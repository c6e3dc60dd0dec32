"""The list page's forms for many todos at once: "Complete all shown", "Clear completed"
and the Undo of the latter (services/todo_bulk.py)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from backend.core.zones import today_in
from backend.dependencies import CurrentUser, DbDep, mark_page
from backend.routers.todo_pages import back_to, query_in, return_target
from backend.schemas.forms import ClearForm, IdsForm
from backend.services import todo_bulk as bulk_service
from backend.services.todo_bulk import MAX_CLEARED

pages = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
MAX_SHOWN = 100  # a list page shows at most this many todos
IdsData = Annotated[IdsForm, Form(default_factory=IdsForm)]


@pages.post("/todo-page/complete-shown", name="complete_shown_submit")
async def complete_shown_submit(request: Request, principal: CurrentUser, db: DbDep, form: IdsData) -> RedirectResponse:
    """Mark done every todo the page showed (their ids are posted), back to that page."""
    done = await db.write(bulk_service.complete_shown, principal=principal, ids=form.id_list(MAX_SHOWN))
    return back_to(request, form.return_to, completed=done)


@pages.post("/todo-page/clear-completed", name="clear_completed_submit")
async def clear_completed_submit(
    request: Request, principal: CurrentUser, db: DbDep, form: Annotated[ClearForm, Form(default_factory=ClearForm)]
) -> RedirectResponse:
    """Move the completed todos of the page's view (every page of it) to the trash; the page offers Undo."""
    query = query_in(return_target(request, form.return_to))
    today = today_in(principal.timezone)
    ids = await db.write(bulk_service.trash_completed, principal=principal, query=query, today=today)
    if not ids:
        return back_to(request, form.return_to, notice="nothing-cleared")
    return back_to(request, form.return_to, cleared=",".join(map(str, ids)))


@pages.post("/todo-page/restore-cleared", name="restore_cleared_submit")
async def restore_cleared_submit(
    request: Request, principal: CurrentUser, db: DbDep, form: IdsData
) -> RedirectResponse:
    """The Undo of "Clear completed": put those todos back from the trash."""
    restored = await db.write(bulk_service.restore_many, principal=principal, ids=form.id_list(MAX_CLEARED))
    return back_to(request, form.return_to, restored=restored)
