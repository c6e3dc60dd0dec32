"""Error bodies, and the OpenAPI `responses` entries that document them."""

from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue


class ErrorDetail(BaseModel):
    """FastAPI's error shape: `{"detail": "..."}`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "Todo not found"}]})

    detail: str


class Problem(BaseModel):
    """One problem of a refused request, as FastAPI's validation errors show it."""

    type: str | None = None
    loc: list[str | int]
    msg: str
    input: JsonValue = None


class Problems(BaseModel):
    """FastAPI's 422 shape: `{"detail": [problem, …]}`."""

    detail: list[Problem]


_DESCRIPTIONS = {
    400: "Bad request: a body that cannot be decoded, or a wrong current password",
    401: "Missing, invalid, expired or revoked credentials",
    403: "Not allowed (role, or CSRF token missing on a cookie-authenticated write)",
    404: "Not found, or not yours",
    409: "Conflict with existing data",
    412: "If-Match names a version that is no longer the current one; nothing was written",
    413: "Request body over 1 MiB",
    415: "A body in a format this endpoint does not take",
    429: "Too many attempts; see Retry-After",
    503: "Database unavailable",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Authentication scheme", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given statuses, each with the `{"detail"}` body."""
    entries: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": ErrorDetail, "description": _DESCRIPTIONS[code]}
        if code in _HEADERS:
            entry["headers"] = _HEADERS[code]
        entries[code] = entry
    return entries


Responses = dict[int | str, dict[str, Any]]
# Every JSON route answers 503 while the database is down. Each JSON router declares it,
# since its routes are placed on the app directly (main.include_flat), not included.
UNAVAILABLE = error_responses(503)
AUTH_ERRORS = error_responses(401)
BODY_ERRORS = error_responses(400, 413)
