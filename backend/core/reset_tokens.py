"""Password-reset tokens: short-lived, single-use, signed with a key of their own.

A reset token names the account (`sub`, its random key `acc`) and the account's token
version `ver` when the link was sent. Setting a password by any route bumps that version,
so a token stops working once it has been used or the password has changed otherwise:
single use needs no table. The signing key is derived from SECRET_KEY for this purpose
only, so a reset token is never an access token and an access token never resets.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from backend.core.hs256 import JWTError, jwt
from backend.core.tokens import ALGORITHM, InvalidToken, read_account_claims

PURPOSE = "password-reset"
MAX_TOKEN_CHARS = 1000  # a real one is about 250


@dataclass(frozen=True, slots=True)
class ResetClaims:
    user_id: int
    version: int
    account_key: str


def _key(secret: str) -> str:
    return hmac.new(secret.encode(), PURPOSE.encode(), hashlib.sha256).hexdigest()


def issue_reset_token(*, user_id: int, version: int, account_key: str, secret: str, minutes: int) -> str:
    """A token valid for `minutes`, for the account as it is now."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "ver": version,
        "acc": account_key,
        "use": PURPOSE,
        "iat": now,
        "exp": now + minutes * 60,
    }
    return jwt.encode(claims, _key(secret), algorithm=ALGORITHM)


def read_reset_token(token: str, *, secret: str) -> ResetClaims:
    """The claims of an unexpired reset token signed by us, or InvalidToken."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("missing or oversized token")
    try:
        claims = jwt.decode(token, _key(secret), algorithms=[ALGORITHM], options={"require_exp": True})
    except (JWTError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("use") != PURPOSE:
        raise InvalidToken("not a reset token")
    user_id, version, account_key = read_account_claims(claims)
    return ResetClaims(user_id=user_id, version=version, account_key=account_key)
