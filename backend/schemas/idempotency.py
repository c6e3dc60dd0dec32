"""The `Idempotency-Key` header: what a key may be, and how the routes that take one document it.

A malformed key is a 400 with a plain `detail` (KEY_RULE), not a 422: a 422 from these
routes then always means the body (or a key reused for another body), and a client
that sends a fixed, broken key learns so on its first request.
"""

import re
from typing import Annotated, Any

from fastapi import Header

from backend.schemas.errors import ErrorDetail, Responses

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RULE = "Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces)"
_KEY_PATTERN = "[!-~]{1,255}"  # 0x21-0x7E
_KEY = re.compile(_KEY_PATTERN)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        description=(
            "Makes the create safe to retry: a later request with the same key and the same body gets the "
            "stored answer again (with `Idempotent-Replayed: true`) and creates nothing. Keys are per user, "
            "kept IDEMPOTENCY_HOURS (24 by default); 1 to 255 visible ASCII characters, otherwise 400."
        ),
        json_schema_extra={"pattern": f"^{_KEY_PATTERN}$"},
    ),
]
REPLAYED: dict[str, Any] = {
    REPLAYED_HEADER: {
        "description": "`true` when this is the stored answer of an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
IN_PROGRESS: Responses = {
    409: {"model": ErrorDetail, "description": "A request with this Idempotency-Key is still in progress"}
}
KEY_REUSED = "or an Idempotency-Key already used for a different request (type `idempotency_key_reused`)"


def is_valid_key(value: str) -> bool:
    """1 to 255 characters, each visible ASCII (0x21-0x7E)."""
    return _KEY.fullmatch(value) is not None
