"""What routes receive: settings, database, the signed-in principal, owned todos.

Every dependency here is `async def`, so resolving them never costs a thread-pool hop.
"""

import binascii
from base64 import b64decode
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBasic, HTTPBasicCredentials, OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import TypeAdapter, ValidationError
from starlette.requests import HTTPConnection

from backend.core import security
from backend.core.config import Settings
from backend.core.errors import INVALID_CREDENTIALS, NotAuthenticated, NotFound, PermissionDenied, SessionExpired
from backend.core.query_models import query_model
from backend.core.sessions import renew_session_if_due, session_cookie_name
from backend.core.state import AppState, app_state
from backend.core.tokens import InvalidToken, TokenClaims
from backend.database.request_scope import reads_in_autocommit, single_statement_write
from backend.database.request_scope import release as release_connection
from backend.database.session import Database
from backend.schemas.idempotency import KEY_HEADER
from backend.schemas.todos import TodoQuery
from backend.services import principal as principal_service
from backend.services import todos as todo_service
from backend.services.access import TODO_NOT_FOUND
from backend.services.auth import AuthContext
from backend.services.principal import Principal, PrincipalRow
from backend.services.signed_in import principal_and_page, principal_and_todo
from backend.services.todos import TodoRow

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


Page = tuple[list[TodoRow], int]  # a page of todos and how many match before paging


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A request's principal, and what was read along with it (`ReadableTodo`, `ListingTodos`), if any."""

    principal: Principal
    todo: TodoRow | None = None
    page: Page | None = None


class HTTPBasicUTF8(HTTPBasic):
    """HTTP Basic that reads credentials as UTF-8 (RFC 7617), as curl and browsers send them.

    FastAPI's own decodes them as ASCII and refuses any non-ASCII password.
    """

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, param = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "basic":
            return None
        try:
            username, separator, password = b64decode(param, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            username, separator, password = "", "", ""
        if not separator:
            raise NotAuthenticated("Invalid authentication credentials", scheme="Basic")
        return HTTPBasicCredentials(username=username, password=password)


basic_scheme = HTTPBasicUTF8(auto_error=False, description="Username and password, for `GET /login`")


async def request_settings(request: Request) -> Settings:
    return app_state(request).settings


def request_db(request: Request) -> Database:
    """The database, for the busiest routes: read from app state directly, since each
    dependency FastAPI resolves costs every request real time (issue 12)."""
    return app_state(request).db


async def get_db(request: Request) -> Database:
    return request_db(request)


async def client_ip(request: Request) -> str:
    """The client's address as the server (after trusted proxy headers) sees it."""
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(request_settings)]
DbDep = Annotated[Database, Depends(get_db)]
ClientIP = Annotated[str, Depends(client_ip)]
BasicCredentials = Annotated[HTTPBasicCredentials | None, Depends(basic_scheme)]


async def _check_csrf(request: Request, secret: str, session_id: str) -> None:
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        await release_connection()  # a slow body must not hold a pooled connection
        value = (await request.form()).get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not security.csrf_matches(secret, session_id, presented):
        raise PermissionDenied("CSRF token missing or incorrect")


async def load_session(
    state: AppState, token: str, *, todo_id: int | None = None, query: TodoQuery | None = None
) -> tuple[TokenClaims, PrincipalRow, TodoRow | None, Page | None] | None:
    """The claims of `token` and its user's row while the session holds (one statement);
    None otherwise. With `todo_id`, that todo comes along in the same statement when the
    user may read it; with `query` (an unfiltered listing), the page of their own todos
    and its total (services/signed_in.py)."""
    try:
        claims = state.tokens.read(token)
    except InvalidToken:
        return None
    if todo_id is not None:
        found = await state.db.read(principal_and_todo, token=claims, todo_id=todo_id)
        return None if found is None else (claims, found[0], found[1], None)
    if query is not None:
        listed = await state.db.read(
            principal_and_page, token=claims, sort=query.sort, limit=query.limit, offset=query.offset
        )
        return None if listed is None else (claims, listed[0], None, (listed[1], listed[2]))
    row = await state.db.read(principal_service.load_principal, token=claims)
    return None if row is None else (claims, row, None, None)


async def _signed_in(
    request: Request, bearer: str | None, todo_id: int | None = None, query: TodoQuery | None = None
) -> SignedIn | None:
    # App state is read directly (not through SettingsDep/DbDep): this runs on every
    # authenticated request, and each extra dependency level costs FastAPI real time.
    state = app_state(request)
    settings = state.settings
    token, via_cookie = bearer, False
    if token is None:
        token, via_cookie = request.cookies.get(session_cookie_name(settings)), True
    if not token:
        return None
    # Whatever the answer, it depends on who asked: no shared cache may keep it.
    request.state.private = True
    session = await load_session(state, token, todo_id=todo_id, query=query)
    if session is None:
        request.state.session_expired = via_cookie
        return None
    claims, row, todo, page = session
    principal = Principal(*row, token=claims, via_cookie=via_cookie)
    request.state.user_id = principal.id
    request.state.principal = principal
    if via_cookie:
        request.state.csrf_token = security.csrf_token(settings.secret_key, claims.jti)
        renew_session_if_due(request, settings, claims)
    return SignedIn(principal, todo, page)


def _required(request: Request, bearer: str | None, signed_in: SignedIn | None) -> SignedIn:
    """`signed_in`, or the 401 (or 419 for an expired cookie session on a write) when None."""
    if signed_in is None:
        if getattr(request.state, "session_expired", False) and request.method not in SAFE_METHODS:
            raise SessionExpired()
        raise NotAuthenticated(INVALID_CREDENTIALS if bearer or request.cookies else "Not authenticated")
    return signed_in


async def _allowed_to_write(request: Request, principal: Principal) -> None:
    """Before a write: the CSRF check of a cookie session, then the user's write limit."""
    if request.method not in SAFE_METHODS:
        state = app_state(request)
        if principal.via_cookie:
            await _check_csrf(request, state.settings.secret_key, principal.session_id)
        await state.throttle.write(principal.id)


class _SignedIn(OAuth2PasswordBearer):
    """The bearer scheme as OpenAPI documents it, resolving to the principal itself.

    One dependency where FastAPI would otherwise resolve two (the scheme, then the user):
    every level of dependencies costs each request real time (issue 12).
    """

    def __init__(self) -> None:
        super().__init__(tokenUrl="/auth/token", auto_error=False, scheme_name="OAuth2PasswordBearer")

    @staticmethod
    def bearer(request: Request) -> str | None:
        """The token of an `Authorization: Bearer …` header, as OAuth2PasswordBearer reads it."""
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        return param if authorization and scheme.lower() == "bearer" else None


class OptionalPrincipal(_SignedIn):
    """The signed-in user, or None (for pages that work either way)."""

    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        signed_in = await _signed_in(request, self.bearer(request))
        return None if signed_in is None else signed_in.principal


class CurrentPrincipal(_SignedIn):
    """The user behind a bearer token or the session cookie; cookie writes need CSRF.

    Writes are counted against the user's write limit before they run.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        bearer = self.bearer(request)
        principal = _required(request, bearer, await _signed_in(request, bearer)).principal
        await _allowed_to_write(request, principal)
        return principal


class CreatingPrincipal(CurrentPrincipal):
    """`CurrentPrincipal` for a create, whose one write is a single statement where
    `Database.one_statement_creates`, unless an Idempotency-Key stores its answer too:
    said before the user check, so that on PostgreSQL the check and the write run in
    autocommit, without BEGIN and COMMIT (database/request_scope.py)."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        if KEY_HEADER not in request.headers and request_db(request).one_statement_creates:
            reads_in_autocommit()
            single_statement_write()
        return await super().__call__(request)


optional_principal = OptionalPrincipal()
current_principal = CurrentPrincipal()
creating_principal = CreatingPrincipal()
OptionalUser = Annotated[Principal | None, Depends(optional_principal)]
CurrentUser = Annotated[Principal, Depends(current_principal)]
CreatingUser = Annotated[Principal, Depends(creating_principal)]


TODO_ID_MAX = 2**31 - 1
TodoId = Annotated[int, Path(ge=1, le=TODO_ID_MAX, description="The todo's id")]
_TODO_ID = TypeAdapter(TodoId)


@dataclass(frozen=True, slots=True)
class SignedInTodo:
    """The signed-in user and the todo of the request's path, which they may read."""

    principal: Principal
    todo: TodoRow


class ReadableTodo(_SignedIn):
    """`GET`, `PUT` and `PATCH` of one todo: the signed-in user and the todo, checked and
    read in one statement; 404 for a todo they may not read, as `owned_todo` answers. A
    write then passes `CurrentPrincipal`'s checks (CSRF, the write limit) before the 404,
    in that order, as it did when the todo was read after them.

    `GET` calls it itself (a dependency FastAPI resolves costs each request: 8% of the
    read's instructions); `PUT` and `PATCH` declare it, so it runs before their bodies
    are validated.

    The path's `todo_id` is read here, not declared to FastAPI (a declared path parameter
    cost each request 20-30 µs; the routes document it with `core.openapi_params`). Any
    other spelling FastAPI's validation takes for an id ("+5", "5.0") is read after the
    user check; one it refuses answers FastAPI's 422 (`loc` ["path", "todo_id"]) after
    the same checks as a 404, on its own (a bad body of that request is not listed too).
    """

    async def __call__(self, request: Request) -> SignedInTodo:  # type: ignore[override]
        bearer = self.bearer(request)
        segment = request.path_params.get("todo_id")
        reads_in_autocommit()  # a change of one todo is mostly one UPDATE (routers/todos.py)
        todo_id = _plain_todo_id(segment)
        signed_in = _required(request, bearer, await _signed_in(request, bearer, todo_id))
        principal = signed_in.principal
        await _allowed_to_write(request, principal)
        if todo_id is None:
            return SignedInTodo(principal, await owned_todo(request, path_todo_id(segment), principal))
        if signed_in.todo is None:
            raise NotFound(TODO_NOT_FOUND)
        return SignedInTodo(principal, signed_in.todo)


def path_todo_id(segment: object) -> int:
    """The path's todo id as FastAPI validates a `TodoId` parameter, or its 422."""
    try:
        return _TODO_ID.validate_python(segment)
    except ValidationError as exc:
        errors = [{**error, "loc": ("path", "todo_id", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _plain_todo_id(segment: object) -> int | None:
    if not isinstance(segment, str) or not segment.isascii() or not segment.isdigit() or len(segment) > 10:
        return None
    value = int(segment)
    return value if 1 <= value <= TODO_ID_MAX else None


readable_todo = ReadableTodo()
SignedInWithTodo = Annotated[SignedInTodo, Depends(readable_todo)]
read_todo_query = query_model(TodoQuery)
TodoQueryDep = Annotated[TodoQuery, Depends(read_todo_query)]


class ListingTodos(_SignedIn):
    """`GET /todos/`: the signed-in user and, for an unfiltered listing on a database where
    it pays (`Database.page_with_check`), the page of their own todos and its total, in one
    statement (services/signed_in.py). That page is the answer only for someone who shares
    no list; the route reads anyone else's, and every other listing, itself. The route
    calls this itself, after `read_todo_query`, as FastAPI would resolve the two."""

    async def __call__(self, request: Request, query: TodoQueryDep) -> SignedIn:  # type: ignore[override]
        bearer = self.bearer(request)
        listing = query if request_db(request).page_with_check and todo_service.unfiltered(query) else None
        return _required(request, bearer, await _signed_in(request, bearer, query=listing))


listing_todos = ListingTodos()


async def require_admin(principal: CurrentUser) -> Principal:
    """Admins only: 403 for everybody else (401 without a session, as for any route)."""
    if not principal.is_admin:
        raise PermissionDenied("Admin privileges required")
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]


async def owned_todo(request: Request, todo_id: TodoId, principal: CurrentUser) -> TodoRow:
    """A todo the caller may read, or 404 (also for a stranger's: its existence is not revealed)."""
    return await request_db(request).read(todo_service.get_visible, todo_id=todo_id, principal=principal)


OwnedTodo = Annotated[TodoRow, Depends(owned_todo)]


async def mark_page(request: Request) -> None:
    """Page routes answer errors with HTML pages and redirect to the login page on 401."""
    request.state.page = True


async def get_auth(request: Request) -> AuthContext:
    return app_state(request).auth


AuthDep = Annotated[AuthContext, Depends(get_auth)]
