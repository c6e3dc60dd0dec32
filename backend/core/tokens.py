"""All JWT code: access tokens are HS256 with sub, exp, iat, jti and ver."""

import time
import uuid
from collections import OrderedDict
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
