"""Fast JSON answers with validators: ETag / If-None-Match for cacheable reads."""

import hashlib
from typing import Any

import orjson
from fastapi import Request, Response

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def dump_json(payload: Any) -> bytes:
    """Serialise plain data (dicts, dates, datetimes) the way pydantic would."""
    return orjson.dumps(payload, option=_OPTIONS)


def json_response(
    request: Request,
    payload: Any,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    etag: bool = False,
) -> Response:
    """A JSON response; with `etag`, a weak validator and 304 when the client has it."""
    body = dump_json(payload)
    headers = dict(headers or {})
    if etag:
        digest = hashlib.blake2b(body, digest_size=16)
        for value in headers.values():
            digest.update(value.encode())
        tag = f'W/"{digest.hexdigest()}"'
        headers["ETag"] = tag
        headers["Cache-Control"] = "no-store"  # private data; If-None-Match still gets 304
        if _matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))
