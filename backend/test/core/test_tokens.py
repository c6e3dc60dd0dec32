"""core.tokens: issuing and reading JWTs, and the cached reader; no database."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from backend.core.tokens import InvalidToken, TokenReader, issue_token, read_token
from backend.test.factories import ACCOUNT_KEY, claims_for, craft_token

SECRET = "s" * 40


class TestTokens:
    def test_issue_and_read_round_trip(self) -> None:
        issued = issue_token(user_id=42, version=3, account_key=ACCOUNT_KEY, secret=SECRET, minutes=15)

        claims = read_token(issued.token, secret=SECRET)

        assert (claims.user_id, claims.version, claims.jti) == (42, 3, issued.jti)
        assert claims.expires_at == issued.expires_at
        assert issued.expires_in == 15 * 60

    def test_iat_within_the_leeway_is_accepted(self) -> None:
        token = craft_token(claims_for(1, iat=int(time.time()) + 20), SECRET)

        assert read_token(token, secret=SECRET).user_id == 1

    def test_the_account_key_is_read(self) -> None:
        issued = issue_token(user_id=5, version=0, account_key="ab" * 16, secret=SECRET, minutes=5)

        assert read_token(issued.token, secret=SECRET).account_key == "ab" * 16

    def test_every_token_has_its_own_jti(self) -> None:
        first = issue_token(user_id=1, version=0, account_key=ACCOUNT_KEY, secret=SECRET, minutes=5)
        second = issue_token(user_id=1, version=0, account_key=ACCOUNT_KEY, secret=SECRET, minutes=5)

        assert first.jti != second.jti

    @pytest.mark.parametrize(
        "token",
        [
            craft_token(claims_for(1, minutes=-1), SECRET),
            craft_token(claims_for(1), "wrong" * 10),
            craft_token(claims_for(1), SECRET, alg="none"),
            craft_token(claims_for(1), SECRET, alg="HS512", digest="sha512"),
            craft_token(claims_for(1), SECRET, alg="RS256"),
            craft_token(claims_for(1, iat=None), SECRET),
            craft_token(claims_for(1, exp=None), SECRET),
            craft_token(claims_for(1, sub=None), SECRET),
            craft_token(claims_for(1, jti=None), SECRET),
            craft_token(claims_for(1, jti=""), SECRET),
            craft_token(claims_for(1, jti="j" * 37), SECRET),
            craft_token(claims_for(1, sub="not-a-number"), SECRET),
            craft_token(claims_for(1, exp="soon"), SECRET),
            # Claims are exact: numeric times, no future iat, a decimal id, integer version.
            craft_token(claims_for(1, exp=str(int(time.time()) + 600)), SECRET),
            craft_token(claims_for(1, iat=str(int(time.time()))), SECRET),
            craft_token(claims_for(1, iat=int(time.time()) + 10**7), SECRET),  # built at collection: far enough ahead
            craft_token(claims_for(1, iat=True), SECRET),
            craft_token(claims_for(1, sub=1), SECRET),
            craft_token(claims_for(1, sub="+1"), SECRET),
            craft_token(claims_for(1, sub="01"), SECRET),
            craft_token(claims_for(1, sub="1.0"), SECRET),
            craft_token(claims_for(1, sub="١"), SECRET),  # an Arabic-Indic digit
            craft_token(claims_for(1, sub="9" * 30), SECRET),
            craft_token(claims_for(1, ver="0"), SECRET),
            craft_token(claims_for(1, ver=1.0), SECRET),
            craft_token(claims_for(1, ver=2**64), SECRET),
            craft_token(claims_for(1, ver=None), SECRET),
            craft_token(claims_for(1, acc=None), SECRET),
            craft_token(claims_for(1, acc="zz"), SECRET),
            craft_token(claims_for(1, sst=None), SECRET),
            "not.a.jwt",
            "",
        ],
        ids=[
            "expired",
            "other-key",
            "alg-none",
            "hs512",
            "rs256-confusion",
            "no-iat",
            "no-exp",
            "no-sub",
            "no-jti",
            "empty-jti",
            "long-jti",
            "non-numeric-sub",
            "text-exp",
            "numeric-text-exp",
            "text-iat",
            "future-iat",
            "bool-iat",
            "int-sub",
            "plus-sub",
            "zero-padded-sub",
            "decimal-point-sub",
            "arabic-digit-sub",
            "huge-sub",
            "text-ver",
            "float-ver",
            "huge-ver",
            "no-ver",
            "no-acc",
            "bad-acc",
            "no-sst",
            "garbage",
            "empty",
        ],
    )
    def test_invalid_tokens_are_refused(self, token: str) -> None:
        with pytest.raises(InvalidToken):
            read_token(token, secret=SECRET)


class TestTokenReader:
    def test_reads_like_read_token(self) -> None:
        issued = issue_token(user_id=7, version=1, account_key=ACCOUNT_KEY, secret=SECRET, minutes=5)

        assert TokenReader(SECRET).read(issued.token) == read_token(issued.token, secret=SECRET)

    def test_a_remembered_token_still_expires(self, monkeypatch: pytest.MonkeyPatch) -> None:
        reader = TokenReader(SECRET)
        issued = issue_token(user_id=7, version=1, account_key=ACCOUNT_KEY, secret=SECRET, minutes=1)
        reader.read(issued.token)
        later = time.time() + 120
        monkeypatch.setattr(time, "time", lambda: later)

        with pytest.raises(InvalidToken):
            reader.read(issued.token)

    def test_refuses_what_read_token_refuses(self) -> None:
        with pytest.raises(InvalidToken):
            TokenReader(SECRET).read(craft_token(claims_for(1), "wrong" * 10))

    def test_memo_is_bounded(self) -> None:
        reader = TokenReader(SECRET, size=2)
        tokens = [
            issue_token(user_id=n, version=0, account_key=ACCOUNT_KEY, secret=SECRET, minutes=5).token
            for n in range(1, 5)
        ]

        for token in tokens:
            reader.read(token)

        assert [reader.read(token).user_id for token in tokens] == [1, 2, 3, 4]
        assert len(reader._verified) == 2

    def test_expiry_is_exact_to_the_second(self) -> None:
        expires = datetime.now(UTC) + timedelta(seconds=30)
        token = craft_token(claims_for(1, exp=int(expires.timestamp())), SECRET)

        assert TokenReader(SECRET).read(token).expires_at == datetime.fromtimestamp(int(expires.timestamp()), UTC)
