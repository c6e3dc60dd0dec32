"""All JWT code: access tokens are HS256 with sub, exp, iat, jti, ver, acc and sst.

- `sub` the user id (decimal text), `ver` the account's token version (an integer, bumped
  by password changes), `acc` the account's random key (so a token names one account,
  not merely an id), `jti` the session id (kept when a session is renewed; logout
  revokes it), `sst` when the session started (renewals never pass SESSION_MAX_HOURS).
- Every claim is checked for its exact type and range: anything else is InvalidToken,
  which callers answer with 401.
"""

import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.core.hs256 import JWTError, jwt

ALGORITHM = "HS256"
IAT_LEEWAY_SECONDS = 30
MAX_ID = 2**31 - 1  # ids and versions are 32-bit integer columns on every database
_DECODE_OPTIONS = {
    "require_exp": True,
    "require_sub": True,
    "require_iat": True,
    "require_jti": True,
    "verify_iat": False,  # checked below, exactly, with our own leeway
}
_DECIMAL_ID = re.compile(r"[1-9][0-9]{0,9}")
_ACCOUNT_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime
    expires_in: int


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    jti: str
    version: int
    account_key: str
    issued_at: float
    expires_at: datetime
    session_start: int


class InvalidToken(Exception):
    """The token is malformed, forged, expired or has a claim of the wrong type."""


def issue_token(
    *,
    user_id: int,
    version: int,
    account_key: str,
    secret: str,
    minutes: int,
    jti: str | None = None,
    session_start: int | None = None,
    not_after: int | None = None,
) -> IssuedToken:
    """Sign an access token; a renewal passes the session's jti, start and absolute end."""
    now = int(time.time())
    expires = now + minutes * 60
    if not_after is not None:
        expires = min(expires, not_after)
    jti = jti or str(uuid.uuid4())
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": expires,
        "jti": jti,
        "ver": version,
        "acc": account_key,
        "sst": session_start if session_start is not None else now,
    }
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return IssuedToken(
        token=token, jti=jti, expires_at=datetime.fromtimestamp(expires, UTC), expires_in=max(0, expires - now)
    )


def _integer(value: object, name: str, *, low: int = 0, high: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidToken(f"{name} must be an integer from {low} to {high}")
    return value


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
        raise InvalidToken(f"{name} must be a number")
    return float(value)


def read_account_claims(claims: dict[str, object]) -> tuple[int, int, str]:
    """`sub`, `ver` and `acc`, the claims that name one account as it is now, checked exactly."""
    sub, acc = claims.get("sub"), claims.get("acc")
    if not isinstance(sub, str) or not _DECIMAL_ID.fullmatch(sub) or int(sub) > MAX_ID:
        raise InvalidToken("sub must be a decimal user id")
    if not isinstance(acc, str) or not _ACCOUNT_KEY.fullmatch(acc):
        raise InvalidToken("bad account key")
    return int(sub), _integer(claims.get("ver"), "ver"), acc


def read_token(token: str, *, secret: str) -> TokenClaims:
    """Verify signature, algorithm, expiry and every claim's type; return the claims."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options=_DECODE_OPTIONS)
    except (JWTError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidToken(str(exc)) from exc
    user_id, version, account_key = read_account_claims(claims)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 36:
        raise InvalidToken("bad jti")
    issued_at = _number(claims.get("iat"), "iat")
    expires = _number(claims.get("exp"), "exp")
    if issued_at > time.time() + IAT_LEEWAY_SECONDS:
        raise InvalidToken("iat is in the future")
    session_start = _integer(claims.get("sst"), "sst", high=2**53)
    try:
        expires_at = datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidToken("exp out of range") from exc
    return TokenClaims(
        user_id=user_id,
        jti=jti,
        version=version,
        account_key=account_key,
        issued_at=issued_at,
        expires_at=expires_at,
        session_start=session_start,
    )


def lifetime_left(claims: TokenClaims, minutes: int) -> float:
    """Seconds until the token expires, as a fraction of a full token's lifetime."""
    return (claims.expires_at.timestamp() - time.time()) / (minutes * 60)


class TokenReader:
    """`read_token` with a bounded memo of verified tokens.

    Decoding and verifying a JWT is the most expensive step of an authenticated request;
    a token's claims never change, so a verified one is remembered (expiry is still checked
    on every use, and revocation is checked in the database by the caller).
    """

    def __init__(self, secret: str, size: int = 4096) -> None:
        self._secret = secret
        self._size = size
        self._verified: OrderedDict[str, TokenClaims] = OrderedDict()

    def read(self, token: str) -> TokenClaims:
        """Claims of a valid, unexpired token, or InvalidToken."""
        claims = self._verified.get(token)
        if claims is None:
            claims = read_token(token, secret=self._secret)
            self._verified[token] = claims
            if len(self._verified) > self._size:
                self._verified.popitem(last=False)
        elif claims.expires_at.timestamp() <= time.time():
            del self._verified[token]
            raise InvalidToken("expired")
        return claims
