"""Validation errors people can read, bounded in size.

The JSON API keeps FastAPI's `{"detail": [{"type", "loc", "msg", "input"}, …]}` shape;
forms show the same messages beside their fields. Messages are plain words per field,
never a pattern or a validator's wording; at most MAX_ERRORS are reported and no input
is echoed back longer than MAX_INPUT_CHARS.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from backend.core.zones import ZONE_MESSAGE

MAX_ERRORS = 50
MAX_INPUT_CHARS = 200

FIELD_MESSAGES = {
    "username": "Username must be 3–32 characters: letters, digits, _ . -",
    "email": "Enter an email address like name@example.com.",
    "first_name": "First name must be 1–50 characters.",
    "last_name": "Last name must be 1–50 characters.",
    "phone_number": "Phone number must have 7–15 digits, with an optional + in front.",
    "title": "Title must be 1–200 characters.",
    "description": "Description must be at most 2000 characters.",
    "priority": "Priority must be a whole number from 1 to 5.",
    "due_date": "Due date must be a date like 2026-12-24.",
    "complete": "Complete must be true or false.",
    "password": "Password must be 8–256 characters.",
    "new_password": "New password must be 8–256 characters.",
    "timezone": ZONE_MESSAGE,
    "theme": "Theme must be system, light or dark.",
}
LABELS = {
    "new_password": "New password",
    "phone_number": "Phone number",
    "due_date": "Due date",
    "timezone": "Time zone",
}


def _field(loc: Sequence[object]) -> str:
    names = [str(part) for part in loc if isinstance(part, str) and part not in ("body", "query", "path")]
    return names[-1] if names else ""


def _label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize() or "This value")


def plain_message(error: Mapping[str, Any]) -> str:
    """The message for one validation error, in plain words."""
    kind = str(error.get("type", ""))
    field = _field(error.get("loc", ()))
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if kind == "missing":
        return f"{_label(field)} is required."
    if kind == "extra_forbidden":
        return f"Unknown field “{field[:MAX_INPUT_CHARS]}”."
    if kind.startswith("password_"):  # the password policy's own words
        return message
    return FIELD_MESSAGES.get(field, message)


def _short_input(value: object) -> object:
    if isinstance(value, str):
        return value[:MAX_INPUT_CHARS]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if abs(value) < 10**15 else str(value)[:MAX_INPUT_CHARS]  # also inf and nan
    return None  # a whole object or list: never echoed back


def public_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_ERRORS errors with plain messages and inputs cut short."""
    shown: list[dict[str, Any]] = []
    for error in errors:
        if len(shown) == MAX_ERRORS:
            break
        shown.append(
            {
                "type": error.get("type"),
                "loc": [str(part)[:MAX_INPUT_CHARS] for part in error.get("loc", ())],
                "msg": plain_message(error),
                "input": _short_input(error.get("input")),
            }
        )
    return shown


def field_errors(errors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Validation errors as plain messages per form field (each message once)."""
    by_field: dict[str, list[str]] = {}
    for error in public_errors(errors):
        field = _field(error["loc"]) or "form"
        messages = by_field.setdefault(field, [])
        if error["msg"] not in messages:
            messages.append(error["msg"])
    return by_field
