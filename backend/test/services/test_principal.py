"""services.principal: who a token names, and that nobody else can be named by it."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from backend.core.tokens import TokenClaims
from backend.models import User
from backend.services import users as user_service
from backend.services.principal import PrincipalRow, load_principal
from backend.test.factories import inbox_of, make_todo, make_user, token_claims


def claims_of(user: User, *, jti: str = "jti-1", account_key: str | None = None) -> TokenClaims:
    return token_claims(user.id, account_key=account_key or user.auth_key, jti=jti)


class TestLoadPrincipal:
    def test_loads_id_username_role_zone_theme_inbox_and_sharing(self, db_session: Session) -> None:
        user = make_user(db_session, role="admin")
        make_todo(db_session, user.id)

        row = load_principal(db_session, token=claims_of(user))

        assert row == PrincipalRow(
            user.id, user.username, "admin", "UTC", "system", inbox_of(db_session, user.id), False
        )

    def test_inactive_user_has_no_principal(self, db_session: Session) -> None:
        user = make_user(db_session, is_active=False)

        assert load_principal(db_session, token=claims_of(user)) is None

    def test_revoked_session_has_no_principal(self, db_session: Session) -> None:
        user = make_user(db_session)
        expires = datetime.now(UTC) + timedelta(minutes=30)

        user_service.revoke_token(db_session, user_id=user.id, session_id="jti-gone", expires_at=expires)

        assert load_principal(db_session, token=claims_of(user, jti="jti-gone")) is None
        assert load_principal(db_session, token=claims_of(user, jti="jti-other")) is not None

    def test_another_accounts_key_names_nobody(self, db_session: Session) -> None:
        user = make_user(db_session)

        assert load_principal(db_session, token=claims_of(user, account_key="f" * 32)) is None

    def test_a_deleted_newest_accounts_id_is_never_given_again(self, db_session: Session) -> None:
        gone = make_user(db_session)
        old_claims = claims_of(gone)
        db_session.execute(delete(User).where(User.id == gone.id))
        db_session.commit()

        newcomer = make_user(db_session)

        assert newcomer.id > gone.id
        assert load_principal(db_session, token=old_claims) is None
