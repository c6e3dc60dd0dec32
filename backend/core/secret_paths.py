"""Paths that carry a secret, and how logs and traces show them.

The calendar feed's address is its only credential (`/calendar/{feed_token}.ics`): a
calendar app cannot send a header. Anything that records a request's path (the access
log, the 500 boundary's log line, the request span's `url.path`) records `shown_path()`
instead, which keeps the prefix and the extension and replaces the rest by `***`.
"""

CALENDAR_PREFIX = "/calendar/"
SECRET_PREFIXES = (CALENDAR_PREFIX,)
_MAX_EXTENSION = 4


def has_secret(path: str) -> bool:
    return path.startswith(SECRET_PREFIXES)


def shown_path(path: str) -> str:
    """`path` as it may be recorded: `/calendar/abc….ics` → `/calendar/***.ics`."""
    for prefix in SECRET_PREFIXES:
        if path.startswith(prefix):
            _, dot, extension = path[len(prefix) :].rpartition(".")
            keep = dot and extension.isalnum() and len(extension) <= _MAX_EXTENSION
            return f"{prefix}***{'.' + extension if keep else ''}"
    return path
