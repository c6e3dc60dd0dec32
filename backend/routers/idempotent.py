"""The routes' side of idempotent creates (services/idempotency.py): check the key, hash
the request, answer with the create's answer or the stored one."""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from backend.core.errors import BadRequest
from backend.core.state import app_state
from backend.schemas.idempotency import KEY_RULE, REPLAYED_HEADER, is_valid_key
from backend.services import idempotency
from backend.services.idempotency import Answer, Keep
from backend.services.principal import Principal


def answer_response(answer: Answer, *, replayed: bool = False) -> Response:
    """The JSON answer, with its Location if it had one, marked when replayed."""
    headers = {} if answer.location is None else {"Location": answer.location}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(answer.body, status_code=answer.status_code, headers=headers, media_type="application/json")


async def answer_once(
    request: Request,
    principal: Principal,
    key: str,
    work: Callable[[Keep], Awaitable[Answer]],
    *,
    media_type: str = "",
) -> Response:
    """Run `work` once for the caller's `key` (400 when malformed) and answer; a repeat replays."""
    if not is_valid_key(key):
        raise BadRequest(KEY_RULE)
    state = app_state(request)
    digest = idempotency.request_hash(request.method, request.url.path, await request.body(), media_type)
    answer, replayed = await idempotency.once(
        state.db,
        principal=principal,
        key=key,
        request_hash=digest,
        hours=state.settings.IDEMPOTENCY_HOURS,
        work=work,
    )
    return answer_response(answer, replayed=replayed)
