"""How errors become HTTP answers: JSON for the API, the error page (or a login redirect) for pages."""

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core.errors import AppError, InvalidInput
from backend.core.routing import allowed_methods
from backend.core.secret_paths import shown_path
from backend.core.templating import render_error_page
from backend.core.urls import url_path
from backend.core.validation import public_errors

logger = logging.getLogger("backend.errors")


def is_page_request(request: Request) -> bool:
    """Page routes (and unrouted browser navigations) answer errors with HTML."""
    if getattr(request.state, "page", False):
        return True
    return "route" not in request.scope and "text/html" in request.headers.get("accept", "")


def _page_error(request: Request, status: int, message: str, headers: Mapping[str, str] | None) -> Response:
    if status == 401:
        return RedirectResponse(login_redirect_target(request), status_code=303)
    return render_error_page(request, status, message, headers)


def login_redirect_target(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return url_path(request, "login_page") + "?" + urlencode({"next": target})


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if is_page_request(request):
        return _page_error(request, exc.status_code, exc.message, exc.headers)
    detail: Any = exc.errors if isinstance(exc, InvalidInput) else exc.message
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405 and (allow := allowed_methods(request)):
        exc.headers = {**(exc.headers or {}), "Allow": allow}
    if is_page_request(request):
        return _page_error(request, exc.status_code, str(exc.detail), exc.headers)
    return await http_exception_handler(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if is_page_request(request):
        return _page_error(request, 422, "The request was not valid.", None)
    # At most 50 errors, inputs cut short (a body of 80,000 unknown keys must not become a
    # 15 MB answer); ASCII-escaped JSON keeps a lone surrogate in an echoed input (valid
    # JSON, unencodable as UTF-8) from turning the 422 into a 500.
    body = json.dumps({"detail": public_errors(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


async def server_error_response(request: Request, exc: Exception) -> Response:
    """The one catch-all boundary: log the traceback here, tell the client nothing more."""
    logger.error("unhandled error", exc_info=exc, extra={"path": shown_path(request.url.path)})
    if is_page_request(request):
        return _page_error(request, 500, "Something went wrong on our side.", None)
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


async def _database_error(request: Request, exc: Exception) -> Response:
    # Connection-level failures (server down or restarting, pool exhausted) are temporary:
    # answer 503 so clients retry; anything else is a bug and goes to the 500 boundary.
    if isinstance(exc, DBAPIError) and not (
        exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    ):
        return await server_error_response(request, exc)
    orig = getattr(exc, "orig", None)
    logger.warning("database unavailable: %s: %s", type(exc).__name__, orig if orig is not None else exc)
    headers = {"Retry-After": "1"}
    if is_page_request(request):
        return _page_error(request, 503, "The service is briefly unavailable. Please retry.", headers)
    return JSONResponse({"detail": "Database unavailable"}, status_code=503, headers=headers)


def register_error_handlers(app: FastAPI) -> None:
    """Map domain, HTTP, validation and unexpected errors to answers."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(Exception, server_error_response)
