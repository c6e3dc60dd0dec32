"""services.users against the test database: uniqueness, credentials, principals, revocation, deletion."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from backend.models import RevokedToken, User
from backend.schemas.users import UserCreate
from backend.services import users as user_service
from backend.services.principal import load_principal
from backend.test.factories import (
    count_todos,
    make_todo,
    make_user,
    principal_of,
    set_active,
    token_claims,
    user_exists,
    user_payload,
)


def revoked_count(session: Session, user_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(RevokedToken)
    if user_id is not None:
        stmt = stmt.where(RevokedToken.user_id == user_id)
    session.expire_all()
    return session.execute(stmt).scalar_one()


class TestCreate:
    def test_stores_lower_cased_keys_and_the_user_role(self, db_session: Session) -> None:
        user = make_user(db_session, username="MixedCase", email="Mixed.Case@Example.COM")

        assert (user.username, user.username_key) == ("MixedCase", "mixedcase")
        assert user.email_key == "mixed.case@example.com"
        assert user.role == "user"
        assert user.is_active is True
        assert user.token_version == 0

    def test_admins_are_made_through_the_service(self, db_session: Session) -> None:
        assert make_user(db_session, role="admin").role == "admin"

    def test_taken_username_in_another_case_is_a_conflict(self, db_session: Session) -> None:
        make_user(db_session, username="Gandalf")

        with pytest.raises(Conflict, match="Username"):
            make_user(db_session, username="gANDALF")

    def test_taken_email_in_another_case_is_a_conflict(self, db_session: Session) -> None:
        make_user(db_session, email="frodo@shire.example")

        with pytest.raises(Conflict, match="Email"):
            make_user(db_session, email="FRODO@Shire.Example")

    def test_the_database_itself_refuses_a_duplicate_username_key(self, db_session: Session) -> None:
        make_user(db_session, username="Unique")
        row = {
            "username": "UNIQUE",
            "username_key": "unique",
            "email": "other@example.com",
            "email_key": "other@example.com",
            "first_name": "A",
            "last_name": "B",
            "role": "user",
            "is_active": True,
            "hashed_password": "x",
            "token_version": 0,
            "created_at": datetime.now(UTC),
            "updated_at": datetime.now(UTC),
        }

        with pytest.raises(IntegrityError):
            db_session.execute(insert(User).values(row))
        db_session.rollback()

    def test_a_race_lost_at_the_unique_index_is_a_conflict(
        self, db_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        make_user(db_session, username="racer")
        data = UserCreate.model_validate(user_payload(username="Racer"))
        original_execute = db_session.execute
        calls = {"n": 0}

        def execute_without_precheck(statement: Any, *args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 1:  # the pre-check: pretend nobody has the name yet
                return original_execute(select(User.username_key, User.email_key).where(User.id == -1))
            return original_execute(statement, *args, **kwargs)

        monkeypatch.setattr(db_session, "execute", execute_without_precheck)

        with pytest.raises(Conflict):
            user_service.create(db_session, data=data, hashed_password="x")


class TestCredentials:
    def test_found_by_username_in_any_case(self, db_session: Session) -> None:
        user = make_user(db_session, username="Samwise")

        creds = user_service.find_credentials(db_session, login="  SAMWISE ")

        assert creds is not None
        assert creds.id == user.id
        assert creds.hashed_password == user.hashed_password

    def test_found_by_email(self, db_session: Session) -> None:
        user = make_user(db_session, email="sam@shire.example")

        creds = user_service.find_credentials(db_session, login="Sam@Shire.Example")

        assert creds is not None
        assert creds.id == user.id

    def test_inactive_users_have_none(self, db_session: Session) -> None:
        user = make_user(db_session)
        set_active(db_session, user.id, active=False)

        assert user_service.find_credentials(db_session, login=user.username) is None

    def test_set_password_hash_keeps_tokens_valid(self, db_session: Session) -> None:
        user = make_user(db_session)

        user_service.set_password_hash(db_session, user_id=user.id, hashed_password="new-hash")

        assert load_principal(db_session, token=token_claims(user.id, account_key=user.auth_key)) is not None

    def test_change_password_bumps_the_token_version(self, db_session: Session) -> None:
        user = make_user(db_session)

        user_service.change_password(db_session, principal=principal_of(db_session, user.id), hashed_password="h")

        assert load_principal(db_session, token=token_claims(user.id, version=0, account_key=user.auth_key)) is None
        assert load_principal(db_session, token=token_claims(user.id, version=1, account_key=user.auth_key)) is not None


class TestRevokeToken:
    def test_revoking_twice_is_harmless(self, db_session: Session) -> None:
        user = make_user(db_session)
        expires = datetime.now(UTC) + timedelta(minutes=30)

        user_service.revoke_token(db_session, user_id=user.id, session_id="same", expires_at=expires)
        user_service.revoke_token(db_session, user_id=user.id, session_id="same", expires_at=expires)

        assert revoked_count(db_session, user.id) == 1

    def test_expired_revocations_are_purged(self, db_session: Session) -> None:
        user = make_user(db_session)
        past = datetime.now(UTC) - timedelta(minutes=1)
        user_service.revoke_token(db_session, user_id=user.id, session_id="old", expires_at=past)

        user_service.revoke_token(
            db_session, user_id=user.id, session_id="new", expires_at=datetime.now(UTC) + timedelta(minutes=5)
        )

        jtis = set(db_session.execute(select(RevokedToken.jti)).scalars())
        assert jtis == {"new"}


class TestListUsers:
    def test_ordered_by_username_ignoring_case_with_total(self, db_session: Session) -> None:
        for name in ("charlie", "Alpha", "bravo"):
            make_user(db_session, username=name)

        users, total = user_service.list_users(db_session, q=None, limit=2, offset=0)

        assert [user.username for user in users] == ["Alpha", "bravo"]
        assert total == 3

    def test_search_matches_username_or_email_literally(self, db_session: Session) -> None:
        hit = make_user(db_session, username="under_score")
        make_user(db_session, username="underXscore")

        users, total = user_service.list_users(db_session, q="R_S", limit=10, offset=0)

        assert [user.id for user in users] == [hit.id]
        assert total == 1


class TestDeleteByUsername:
    def test_cascades_to_todos_and_revocations(self, db_session: Session) -> None:
        admin, user = make_user(db_session, role="admin"), make_user(db_session)
        for _ in range(2):
            make_todo(db_session, user.id)
        make_todo(db_session, admin.id)
        future = datetime.now(UTC) + timedelta(minutes=30)
        user_service.revoke_token(db_session, user_id=user.id, session_id="revoked", expires_at=future)

        deleted = user_service.delete_by_username(
            db_session, username=user.username.upper(), principal=principal_of(db_session, admin.id)
        )

        assert deleted == user.id
        assert not user_exists(db_session, user.id)
        assert count_todos(db_session, user.id) == 0
        assert count_todos(db_session) == 1
        assert revoked_count(db_session) == 0

    def test_unknown_is_not_found(self, db_session: Session) -> None:
        admin = make_user(db_session, role="admin")

        with pytest.raises(NotFound):
            user_service.delete_by_username(db_session, username="ghost", principal=principal_of(db_session, admin.id))

    def test_yourself_is_a_conflict(self, db_session: Session) -> None:
        admin = make_user(db_session, role="admin")

        with pytest.raises(Conflict):
            user_service.delete_by_username(
                db_session, username=admin.username, principal=principal_of(db_session, admin.id)
            )

        assert user_exists(db_session, admin.id)

    def test_an_admin_who_was_demoted_meanwhile_deletes_nobody(self, db_session: Session) -> None:
        admin, other_admin, user = (make_user(db_session, role=role) for role in ("admin", "admin", "user"))
        principal = principal_of(db_session, admin.id)
        db_session.execute(update(User).where(User.id == admin.id).values(role="user"))
        db_session.commit()

        with pytest.raises(PermissionDenied):
            user_service.delete_by_username(db_session, username=user.username, principal=principal)
        db_session.rollback()

        assert user_exists(db_session, user.id)
        assert user_exists(db_session, other_admin.id)

    def test_an_admin_deleted_meanwhile_deletes_nobody(self, db_session: Session) -> None:
        first, second = make_user(db_session, role="admin"), make_user(db_session, role="admin")
        first_principal = principal_of(db_session, first.id)
        user_service.delete_by_username(
            db_session, username=first.username, principal=principal_of(db_session, second.id)
        )

        with pytest.raises(NotAuthenticated):
            user_service.delete_by_username(db_session, username=second.username, principal=first_principal)
        db_session.rollback()

        assert user_exists(db_session, second.id)


class TestPromote:
    def test_promotes_ignoring_case(self, db_session: Session) -> None:
        user = make_user(db_session, username="Pippin")

        user_service.promote(db_session, username="pippin")

        db_session.expire_all()
        assert db_session.execute(select(User.role).where(User.id == user.id)).scalar_one() == "admin"

    def test_unknown_is_not_found(self, db_session: Session) -> None:
        with pytest.raises(NotFound):
            user_service.promote(db_session, username="nobody")

    def test_get_by_id_unknown_is_not_found(self, db_session: Session) -> None:
        with pytest.raises(NotFound):
            user_service.get_by_id(db_session, user_id=424242)
