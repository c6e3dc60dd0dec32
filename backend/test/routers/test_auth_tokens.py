"""Every bearer token the API must refuse, and the one it accepts."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.test.factories import (
    Account,
    b64url,
    bearer,
    claims_for,
    craft_token,
    jwt_claims,
    login,
    register,
    set_active,
)
from backend.test.routers.conftest import whoami


class TestTokenRefusal:
    """Every way a token must be refused: 401 with a Bearer challenge, never 500."""

    def assert_refused(self, client: TestClient, token: str) -> None:
        response = client.get("/user/", headers=bearer(token))
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert isinstance(response.json()["detail"], str)

    def test_a_valid_token_is_accepted(self, client: TestClient, user: Account, settings: Settings) -> None:
        token = craft_token(claims_for(user.id, account_key=user.auth_key), settings.secret_key)

        assert whoami(client, token) == 200

    def test_expired(self, client: TestClient, user: Account, settings: Settings) -> None:
        past = datetime.now(UTC) - timedelta(minutes=5)
        claims = claims_for(
            user.id,
            account_key=user.auth_key,
            iat=int((past - timedelta(minutes=30)).timestamp()),
            exp=int(past.timestamp()),
        )

        self.assert_refused(client, craft_token(claims, settings.secret_key))

    def test_tampered_payload(self, client: TestClient, user: Account, other_user: Account) -> None:
        header, _, signature = user.token.split(".")
        forged_claims = {**jwt_claims(user.token), "sub": str(other_user.id)}
        forged = f"{header}.{b64url(json.dumps(forged_claims).encode())}.{signature}"

        self.assert_refused(client, forged)

    def test_tampered_signature(self, client: TestClient, user: Account) -> None:
        header, payload, signature = user.token.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

        self.assert_refused(client, f"{header}.{payload}.{flipped}")

    def test_signed_with_another_key(self, client: TestClient, user: Account) -> None:
        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key), "another-key-" + "y" * 40)
        )

    def test_alg_none(self, client: TestClient, user: Account, settings: Settings) -> None:
        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key), settings.secret_key, alg="none")
        )

    def test_alg_none_with_the_original_signature(self, client: TestClient, user: Account) -> None:
        _, payload, signature = user.token.split(".")
        header = b64url(b'{"alg":"none","typ":"JWT"}')

        self.assert_refused(client, f"{header}.{payload}.{signature}")

    def test_hs512_with_the_right_key(self, client: TestClient, user: Account, settings: Settings) -> None:
        token = craft_token(
            claims_for(user.id, account_key=user.auth_key), settings.secret_key, alg="HS512", digest="sha512"
        )

        self.assert_refused(client, token)

    def test_rs256_header_signed_with_the_key_as_hmac_secret(
        self, client: TestClient, user: Account, settings: Settings
    ) -> None:
        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key), settings.secret_key, alg="RS256")
        )

    @pytest.mark.parametrize("claim", ["exp", "sub", "jti"])
    def test_missing_claim(self, client: TestClient, user: Account, settings: Settings, claim: str) -> None:
        without: dict[str, Any] = {claim: None}

        self.assert_refused(
            client, craft_token(claims_for(user.id, account_key=user.auth_key, **without), settings.secret_key)
        )

    def test_subject_that_is_not_a_user_id(self, client: TestClient, settings: Settings) -> None:
        self.assert_refused(client, craft_token(claims_for(1, sub="alice"), settings.secret_key))

    def test_garbage(self, client: TestClient) -> None:
        self.assert_refused(client, "this-is-not-a-jwt")

    def test_issued_before_a_password_change(self, client: TestClient, user: Account) -> None:
        old = login(client, user.username)
        changed = client.put(
            "/user/password",
            json={"password": user.password, "new_password": "fresh-Meadow-violin-58"},
            headers=bearer(old),
        )
        assert changed.status_code == 204

        self.assert_refused(client, old)
        self.assert_refused(client, user.token)
        assert whoami(client, login(client, user.username, "fresh-Meadow-violin-58")) == 200

    def test_deleted_user(self, client: TestClient, user: Account, admin: Account) -> None:
        assert client.delete(f"/admin/{user.username}", headers=admin.headers).status_code == 204

        self.assert_refused(client, user.token)

    def test_inactive_user(self, client: TestClient, user: Account, db_session: Session) -> None:
        set_active(db_session, user.id, active=False)

        self.assert_refused(client, user.token)

    def test_after_logout(self, client: TestClient, user: Account) -> None:
        assert client.post("/auth/logout", headers=user.headers).status_code == 204

        self.assert_refused(client, user.token)

    def test_for_a_user_that_never_existed(self, client: TestClient, settings: Settings) -> None:
        self.assert_refused(client, craft_token(claims_for(2**31 - 5), settings.secret_key))

    def test_with_the_right_id_but_another_accounts_key(
        self, client: TestClient, user: Account, other_user: Account, settings: Settings
    ) -> None:
        token = craft_token(claims_for(user.id, account_key=other_user.auth_key), settings.secret_key)

        self.assert_refused(client, token)

    def test_a_deleted_newest_accounts_token_never_works_for_the_next_sign_up(
        self, client: TestClient, admin: Account
    ) -> None:
        first = register(client)
        token = login(client, first["username"])
        assert client.post("/auth/logout", headers=bearer(token)).status_code == 204
        kept = login(client, first["username"])
        assert client.delete(f"/admin/{first['username']}", headers=admin.headers).status_code == 204

        second = register(client)

        assert second["id"] > first["id"]
        for old in (token, kept):
            self.assert_refused(client, old)

    @pytest.mark.parametrize(
        "over",
        [
            {"sub": "9" * 40},
            {"sub": str(2**31)},
            {"ver": 2**40},
            {"ver": -1},
            {"ver": "1"},
            {"iat": "now"},
            {"exp": "later"},
            {"iat": 10**30},
            {"exp": 10**30},
            {"sub": None},
        ],
        ids=[
            "huge-sub",
            "sub-over-32-bits",
            "huge-ver",
            "negative-ver",
            "text-ver",
            "text-iat",
            "text-exp",
            "iat-far-future",
            "exp-far-future",
            "no-sub",
        ],
    )
    def test_claims_of_the_wrong_type_or_size_are_401_not_500(
        self, client: TestClient, user: Account, settings: Settings, over: dict[str, Any]
    ) -> None:
        token = craft_token(claims_for(user.id, account_key=user.auth_key, **over), settings.secret_key)

        self.assert_refused(client, token)
