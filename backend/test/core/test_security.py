"""core.security: hashing, password policy and CSRF; no database."""

import pytest

from backend.core import security

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
