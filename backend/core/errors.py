"""Domain errors: what a service may raise, each with its HTTP status (handlers: error_handlers.py)."""

import math
from typing import Any

INVALID_CREDENTIALS = "Could not validate credentials"


class AppError(Exception):
    """Base of every error a service may raise; carries its HTTP status."""

    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AppError):
    status_code = 404


class PermissionDenied(AppError):
    status_code = 403


class NotAuthenticated(AppError):
    status_code = 401

    def __init__(self, message: str = "Not authenticated", *, scheme: str = "Bearer") -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": scheme}


class SessionExpired(NotAuthenticated):
    """A write arrived on a session that has ended (expired, logged out, …)."""

    def __init__(self) -> None:
        super().__init__("Your session expired. Sign in to continue.")


class DatabaseBusy(AppError):
    """SQLite's write lock is held by another process for longer than we wait."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__("Database busy, try again")
        self.headers = {"Retry-After": "1"}


class Conflict(AppError):
    status_code = 409


class PreconditionFailed(AppError):
    """An If-Match that no longer names the current version: nothing was written."""

    status_code = 412


class BadRequest(AppError):
    status_code = 400


class UnsupportedMediaType(AppError):
    status_code = 415


class RateLimited(AppError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        retry_after = max(1, retry_after)
        minutes = math.ceil(retry_after / 60)
        super().__init__(f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(self.retry_after)}


class InvalidInput(AppError):
    """A rule the schema cannot express (password policy, …): a 422 like pydantic's."""

    status_code = 422

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e["msg"]) for e in errors))
        self.errors = errors
