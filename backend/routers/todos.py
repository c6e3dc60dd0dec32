"""Todos: the JSON API on `services.todos` (the pages are in routers/todo_pages.py)."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from backend.core.errors import PreconditionFailed
from backend.core.http import dump_json, etag_of, json_response, matches
from backend.core.openapi_params import parameters_of, security_of
from backend.core.query_models import query_parameters
from backend.core.routing import register_todo_id
from backend.database.request_scope import single_statement_write
from backend.database.session import Database
from backend.dependencies import (
    CreatingUser,
    CurrentUser,
    SignedInWithTodo,
    TodoId,
    listing_todos,
    read_todo_query,
    readable_todo,
    request_db,
)
from backend.routers.idempotent import answer_once, answer_response
from backend.schemas.errors import AUTH_ERRORS, BODY_ERRORS, UNAVAILABLE, Problems, Responses, error_responses
from backend.schemas.idempotency import IN_PROGRESS, KEY_HEADER, KEY_REUSED, REPLAYED, IdempotencyKeyHeader
from backend.schemas.todos import TodoCreate, TodoPatch, TodoQuery, TodoRead, TodoUpdate
from backend.services import positions as position_service
from backend.services import todos as todo_service
from backend.services.idempotency import Answer, Keep
from backend.services.principal import Principal
from backend.services.todos import CHANGED_ELSEWHERE, TodoRow

register_todo_id()  # before any route uses {todo_id:todo_id}
router = APIRouter(prefix="/todos", tags=["todos"], responses=UNAVAILABLE)
READ_ERRORS = AUTH_ERRORS | error_responses(404)
WRITE_ERRORS = AUTH_ERRORS | BODY_ERRORS | error_responses(403)
LIST_HEADERS: dict[str, Any] = {
    "X-Total-Count": {"description": "Matches before paging", "schema": {"type": "integer"}},
    "ETag": {"description": "Validator for If-None-Match", "schema": {"type": "string"}},
}
CREATED: Responses = {
    201: {"headers": {"Location": {"description": "URL of the new todo", "schema": {"type": "string"}}, **REPLAYED}}
}
INVALID_TODO = f"Not a valid todo (every problem listed), {KEY_REUSED}"
NOT_MODIFIED: Responses = {304: {"description": "Unchanged since the ETag given in If-None-Match"}}
IF_MATCH = "if-match"
IfMatch = Annotated[
    str | None,
    Header(description="The todo's `ETag` as last read: the write happens only if it is still that version (else 412)"),
]


@router.get(
    "/",
    response_model=list[TodoRead],
    responses={200: {"headers": LIST_HEADERS}, **NOT_MODIFIED, **READ_ERRORS},
    openapi_extra=query_parameters(TodoQuery) | security_of(listing_todos),
)
async def list_todos(request: Request) -> Response:
    """The todos the caller can see (their own and those of lists shared with them), filtered,
    sorted and paged; total in `X-Total-Count`. A `list_id` they cannot see is 404."""
    # Resolved here, in the order FastAPI would: a dependency it resolves costs every request.
    query = await read_todo_query(request)
    signed_in = await listing_todos(request, query)
    principal = signed_in.principal
    page = None if principal.shares else signed_in.page  # read with the user check (ListingTodos)
    if page is None:
        page = await request_db(request).read(todo_service.list_visible, principal=principal, query=query)
    rows, total = page
    return json_response(request, rows, headers={"X-Total-Count": str(total)}, etag=True)


async def _todo_id(todo_id: TodoId) -> None:
    """Never called: the parameter `ReadableTodo` reads itself, for OpenAPI (core/openapi_params.py)."""


async def _versioned(todo_id: TodoId, if_match: IfMatch = None) -> None:
    """Never called: the parameters `ReadableTodo` and the versioned writes read themselves."""


async def _keyed(idempotency_key: IdempotencyKeyHeader = None) -> None:
    """Never called: the header a create reads itself."""


@router.get(
    "/{todo_id:todo_id}",
    response_model=TodoRead,
    responses={200: {"headers": {"ETag": LIST_HEADERS["ETag"]}}, **NOT_MODIFIED, **READ_ERRORS},
    openapi_extra=parameters_of("/{todo_id}", _todo_id) | security_of(readable_todo),
)
async def read_todo(request: Request) -> Response:
    """One of the caller's todos."""
    signed_in = await readable_todo(request)  # resolved here: see list_todos
    return json_response(request, signed_in.todo, etag=True)


def created_answer(todo: TodoRow) -> Answer:
    return Answer(201, dump_json(todo), f"/todos/{todo['id']}")


@router.post(
    "/todos",
    status_code=201,
    response_model=TodoRead,
    responses=CREATED
    | WRITE_ERRORS
    | IN_PROGRESS
    | error_responses(404)
    | {422: {"model": Problems, "description": INVALID_TODO}},
    openapi_extra=parameters_of("/", _keyed, validation_error=False),
)
async def create_todo(request: Request, data: TodoCreate, principal: CreatingUser) -> Response:
    """Create a todo for the caller; with an Idempotency-Key, at most once per key."""
    db = request_db(request)
    idempotency_key = request.headers.get(KEY_HEADER)
    if idempotency_key is None:
        return answer_response(created_answer(await db.write(todo_service.create, principal=principal, data=data)))

    async def create(keep: Keep) -> Answer:
        def store_answer(session: Session, todo: TodoRow) -> None:
            keep(session, created_answer(todo))

        todo = await db.write(todo_service.create, principal=principal, data=data, before_commit=store_answer)
        return created_answer(todo)

    return await answer_once(request, principal, idempotency_key, create)


VERSIONED_WRITE: Responses = {
    200: {"headers": {"ETag": LIST_HEADERS["ETag"]}},
    **WRITE_ERRORS,
    **error_responses(404, 412),
}


def one_statement(todo: TodoRow, data: TodoUpdate) -> None:
    """Before `replace`: on PostgreSQL a write that is its one guarded UPDATE runs in
    autocommit, as the user check did (`ReadableTodo`), without BEGIN and COMMIT."""
    if todo_service.replaces_in_one_statement(todo, data):
        single_statement_write()


async def _replace(
    request: Request, todo: TodoRow, data: TodoUpdate, if_match: str | None, principal: Principal, db: Database
) -> Response:
    if if_match is not None and not matches(if_match, etag_of(todo)):
        raise PreconditionFailed(CHANGED_ELSEWHERE)
    one_statement(todo, data)
    updated = await db.write(
        todo_service.replace, principal=principal, todo=todo, data=data, if_unchanged=if_match is not None
    )
    return json_response(request, updated, etag=True)


VERSIONED = parameters_of("/{todo_id}", _versioned, validation_error=False)


@router.put("/todo/{todo_id}", response_model=TodoRead, responses=VERSIONED_WRITE, openapi_extra=VERSIONED)
async def update_todo(request: Request, data: TodoUpdate, signed_in: SignedInWithTodo) -> Response:
    """Replace every editable field of one of the caller's todos (only that version of it, with If-Match)."""
    if_match = request.headers.get(IF_MATCH)
    return await _replace(request, signed_in.todo, data, if_match, signed_in.principal, request_db(request))


@router.patch("/todo/{todo_id}", response_model=TodoRead, responses=VERSIONED_WRITE, openapi_extra=VERSIONED)
async def patch_todo(request: Request, data: TodoPatch, signed_in: SignedInWithTodo) -> Response:
    """Change only the fields given (`{"complete": true}`, say); answers with the whole todo.

    `{"position": n}` moves it to the n-th place (0-based) of its list."""
    db = request_db(request)
    principal = signed_in.principal
    todo = signed_in.todo
    if_match = request.headers.get(IF_MATCH)
    changes = data.model_dump(exclude_unset=True)
    position = changes.pop("position", None)
    if if_match is not None and not matches(if_match, etag_of(todo)):
        raise PreconditionFailed(CHANGED_ELSEWHERE)
    if changes or position is None:
        merged = {field: todo[field] for field in TodoUpdate.model_fields} | changes  # type: ignore[literal-required]
        try:
            replacement = TodoUpdate.model_validate(merged)
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
            raise RequestValidationError(errors) from None
        one_statement(todo, replacement)
        todo = await db.write(
            todo_service.replace, principal=principal, todo=todo, data=replacement, if_unchanged=if_match is not None
        )
    if position is not None:
        todo = await db.write(position_service.move, principal=principal, todo=todo, index=position)
    return json_response(request, todo, etag=True)


@router.delete("/todo/{todo_id}", status_code=204, responses=AUTH_ERRORS | error_responses(403, 404))
async def delete_todo(request: Request, todo_id: TodoId, principal: CurrentUser) -> Response:
    """Delete one of the caller's todos."""
    await request_db(request).write(todo_service.delete_visible, principal=principal, todo_id=todo_id)
    return Response(status_code=204)
