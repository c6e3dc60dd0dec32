"""Fast JSON answers with validators: ETag / If-None-Match for cacheable reads, If-Match for writes."""

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
        tag = _tag(body, headers.values())
        headers["ETag"] = tag
        headers["Cache-Control"] = "no-store"  # private data; If-None-Match still gets 304
        if matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def _tag(body: bytes, header_values: Any = ()) -> str:
    # SHA-256 runs on the CPU's SHA instructions: a third faster than BLAKE2b on a page of
    # 50 todos (15 KB). Half the digest is plenty for a validator.
    digest = hashlib.sha256(body)
    for value in header_values:
        digest.update(value.encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def etag_of(payload: Any) -> str:
    """The ETag `json_response(…, etag=True)` gives `payload` (with no extra headers)."""
    return _tag(dump_json(payload))


def matches(header: str | None, tag: str) -> bool:
    """True when an If-Match / If-None-Match header names `tag` (or is `*`); W/ is ignored."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))
