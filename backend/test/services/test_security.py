"""core.security (hashing, password policy, CSRF) and core.tokens (JWTs): no database."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from backend.core import security
from backend.core.tokens import InvalidToken, TokenReader, issue_token, read_token
from backend.test.factories import ACCOUNT_KEY, claims_for, craft_token

SECRET = "s" * 40


def codes(password: str, username: str = "frodo", email: str = "frodo@shire.example") -> set[str]:
    return {v.code for v in security.password_violations(password, username=username, email=email)}


class TestPasswordHashing:
    def test_argon2id_hash_of_the_whole_password(self) -> None:
        password = "p" * 100 + "-tail"

        hashed = security.hash_password(password)

        assert hashed.startswith("$argon2id$")
        assert security.verify_password(password, hashed) == (True, None)
        assert security.verify_password(password[:72], hashed)[0] is False
        assert security.verify_password("p" * 100 + "-TAIL", hashed)[0] is False

    def test_hashes_are_salted(self) -> None:
        assert security.hash_password("same-password-9") != security.hash_password("same-password-9")

    def test_no_stored_hash_still_verifies_against_a_dummy(self) -> None:
        assert security.verify_password("anything-at-all", None) == (False, None)

    def test_a_short_legacy_bcrypt_hash_verifies_and_asks_for_an_upgrade(self) -> None:
        import bcrypt

        legacy = bcrypt.hashpw(b"old-school-pass", bcrypt.gensalt(rounds=4)).decode()

        ok, new_hash = security.verify_password("old-school-pass", legacy)

        assert ok is True
        assert new_hash is not None and new_hash.startswith("$argon2id$")


class TestPasswordPolicy:
    def test_a_good_password_breaks_no_rule(self) -> None:
        assert codes("quiet-Harbor-lantern-73") == set()

    @pytest.mark.parametrize(("password", "broken"), [("Zq8#kLm", True), ("Zq8#kLmw", False), ("Zq8#" * 64, False)])
    def test_length_bounds(self, password: str, broken: bool) -> None:
        assert ("password_length" in codes(password)) is broken

    def test_over_256_characters_breaks_the_length_rule(self) -> None:
        assert "password_length" in codes("Zq8#" * 64 + "x")

    @pytest.mark.parametrize("password", ["password1", "PASSWORD1", " iloveyou ", "qwertyuiop"])
    def test_common_passwords_ignoring_case_and_spaces(self, password: str) -> None:
        assert "password_too_common" in codes(password)

    def test_all_digits(self) -> None:
        assert codes("8047261935") == {"password_entirely_numeric"}

    @pytest.mark.parametrize(
        ("password", "username", "email"),
        [
            ("frodo-baggins-1", "frodo", "x@y.example"),
            ("Baggins!Frodo", "frodobaggins", "x@y.example"),
            ("hobbiton-rules", "someone", "hobbiton@y.example"),
        ],
    )
    def test_too_similar_to_username_or_email(self, password: str, username: str, email: str) -> None:
        assert "password_too_similar" in codes(password, username, email)

    def test_every_rule_is_reported_together(self) -> None:
        assert codes("1234567", username="x1234567") == {
            "password_length",
            "password_too_common",
            "password_entirely_numeric",
            "password_too_similar",
        }

    def test_messages_and_help_texts_exist_for_every_rule(self) -> None:
        violations = security.password_violations("1234567", username="x1234567", email="a@b.example")

        assert all(v.message for v in violations)
        assert len(security.password_help_texts()) == len(security.PASSWORD_RULES) == 5

    def test_the_shipped_list_has_10000_passwords(self) -> None:
        assert len(security.common_passwords()) == 10_000


class TestCsrf:
    def test_token_is_bound_to_the_session(self) -> None:
        token = security.csrf_token(SECRET, "session-1")

        assert security.csrf_matches(SECRET, "session-1", token)
        assert not security.csrf_matches(SECRET, "session-2", token)
        assert not security.csrf_matches("other" * 10, "session-1", token)

    @pytest.mark.parametrize("presented", [None, "", "0" * 64])
    def test_missing_or_wrong_token_does_not_match(self, presented: str | None) -> None:
        assert not security.csrf_matches(SECRET, "session-1", presented)


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


class TestPasswordPolicyHardening:
    @pytest.mark.parametrize(
        ("password", "username", "email"),
        [
            ("Velvet-Compass-9042", "alice_x", "alice_x@example.com"),
            ("Welcome-Orchid-5512", "bob", "bob@gmail.com"),
        ],
    )
    def test_unrelated_passwords_pass(self, password: str, username: str, email: str) -> None:
        assert security.password_violations(password, username=username, email=email) == []

    def test_similar_to_the_username_fails(self) -> None:
        codes = [v.code for v in security.password_violations("alice_x2026", username="alice_x", email="a@b.example")]

        assert codes == ["password_too_similar"]

    def test_similar_to_a_name_fails_and_the_mail_domain_does_not_count(self) -> None:
        by_name = security.password_violations("Lovelace-1815", username="ada", email="x@y.z", last_name="Lovelace")
        by_domain = security.password_violations("Example-Kettle-77", username="ada", email="ada@example.com")

        assert [v.code for v in by_name] == ["password_too_similar"]
        assert by_domain == []

    @pytest.mark.parametrize("password", ["", "        ", "\u200b\u200c\u200d\u2060\ufeff\u200b\u200c\u200d"])
    def test_empty_blank_and_invisible_passwords_fail(self, password: str) -> None:
        codes = {v.code for v in security.password_violations(password, username="someone", email="s@e.example")}

        assert codes & {"password_length", "password_invisible"}

    def test_passwords_are_compared_after_nfkc(self) -> None:
        hashed = security.hash_password("ｐａｓｓ-Ｗｏｒｄ-１２３")  # full-width forms

        assert security.verify_password("pass-Word-123", hashed)[0]

    def test_a_lone_surrogate_never_reaches_the_hasher(self) -> None:
        assert security.verify_password("\udcff" * 9, security.hash_password("real-Password-1")) == (False, None)
        codes = {v.code for v in security.password_violations("ab\udcffcdefgh", username="u", email="u@x.example")}
        assert "password_invisible" in codes
