"""All JWT code: access tokens are HS256 with sub, exp, iat, jti and ver."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jose import JWTError, jwt

ALGORITHM = "HS256"
_DECODE_OPTIONS = {
    "require_exp": True,
    "require_sub": True,
    "require_iat": True,
    "require_jti": True,
}


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
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged, expired or missing a claim."""


def issue_token(*, user_id: int, version: int, secret: str, minutes: int) -> IssuedToken:
    """Sign a new access token for a user."""
    now = datetime.now(UTC).replace(microsecond=0)
    expires = now + timedelta(minutes=minutes)
    jti = str(uuid.uuid4())
    claims = {"sub": str(user_id), "iat": now, "exp": expires, "jti": jti, "ver": version}
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return IssuedToken(token=token, jti=jti, expires_at=expires, expires_in=minutes * 60)


def read_token(token: str, *, secret: str) -> TokenClaims:
    """Verify signature, algorithm and expiry; return the claims we rely on."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options=_DECODE_OPTIONS)
        user_id = int(claims["sub"])
        version = int(claims.get("ver", -1))
        jti = str(claims["jti"])
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (JWTError, KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidToken(str(exc)) from exc
    if not jti or len(jti) > 36:
        raise InvalidToken("bad jti")
    return TokenClaims(user_id=user_id, jti=jti, version=version, expires_at=expires)
