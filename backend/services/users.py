"""User accounts: queries and rules. Password hashing happens before these run."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.errors import Conflict, NotAuthenticated, NotFound
from backend.core.security import normalize_login
from backend.models import ROLE_ADMIN, ROLE_USER, RevokedToken, TodoList, User
from backend.models.base import utcnow
from backend.models.user import new_calendar_token
from backend.schemas.users import UserCreate
from backend.services.access import INBOX
from backend.services.counts import start_counts
from backend.services.principal import SESSION_ENDED, Principal, actor_row, lock_admins
from backend.services.transactions import commit_then


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a login needs to check a password, read before hashing starts."""

    id: int
    hashed_password: str
    token_version: int
    auth_key: str


def get_by_id(session: Session, *, user_id: int) -> User:
    """One user, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def find_active(session: Session, *, user_id: int) -> User | None:
    """One active user, or None."""
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None


def find_by_email(session: Session, *, address: str) -> User | None:
    """The active user with this email address (`address` normalised), or None."""
    return session.scalars(select(User).where(User.email_key == address, User.is_active.is_(True))).first()


def find_credentials(session: Session, *, login: str) -> Credentials | None:
    """Password hash of an active user by username or email (`login` is normalised)."""
    login = normalize_login(login)
    column = User.email_key if "@" in login else User.username_key
    row = session.execute(
        select(User.id, User.hashed_password, User.token_version, User.auth_key).where(
            column == login, User.is_active.is_(True)
        )
    ).first()
    return None if row is None else Credentials(row[0], row[1], row[2], row[3])


def set_password_hash(session: Session, *, user_id: int, hashed_password: str) -> None:
    """Store a re-hashed password (algorithm upgrade) without revoking tokens."""
    session.execute(update(User).where(User.id == user_id).values(hashed_password=hashed_password))
    session.commit()


def create(session: Session, *, data: UserCreate, hashed_password: str, role: str = ROLE_USER) -> User:
    """Insert a user; a taken username or email (ignoring case) is a Conflict."""
    username_key, email_key = data.username.lower(), str(data.email).lower()
    taken = session.execute(
        select(User.username_key, User.email_key).where(
            or_(User.username_key == username_key, User.email_key == email_key)
        )
    ).all()
    if taken:
        username_taken = any(row.username_key == username_key for row in taken)
        raise Conflict("Username already registered" if username_taken else "Email already registered")
    user = User(
        username=data.username,
        username_key=username_key,
        email=str(data.email),
        email_key=email_key,
        first_name=data.first_name,
        last_name=data.last_name,
        phone_number=data.phone_number,
        role=role,
        hashed_password=hashed_password,
    )
    session.add(user)
    try:
        session.flush()  # the id, for the Inbox every account starts with
        session.add(TodoList(owner_id=user.id, name=INBOX, name_key=INBOX.lower(), is_inbox=True))
        start_counts(session, user.id)
        session.commit()
    except IntegrityError as exc:  # a concurrent sign-up won the race
        session.rollback()
        raise Conflict("Username or email already registered") from exc
    return user


def _update_own_row(session: Session, principal: Principal, **values: object) -> None:
    """Update the principal's own row while their session still holds, else NotAuthenticated."""
    statement = update(User).where(actor_row()).values(**values, updated_at=utcnow())
    result = session.execute(statement, principal.guard())
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotAuthenticated(SESSION_ENDED)
    session.commit()


def change_password(session: Session, *, principal: Principal, hashed_password: str) -> None:
    """New hash and a new token version: every older token stops working."""
    _update_own_row(session, principal, hashed_password=hashed_password, token_version=User.token_version + 1)


def reset_password(session: Session, *, user_id: int, version: int, account_key: str, hashed_password: str) -> bool:
    """Set the password of the account a reset token named, if it is still as the token saw
    it (same key, same token version, active); bump the version, which ends every session
    and the token itself. False when the token no longer fits (used, or the password changed)."""
    statement = (
        update(User)
        .where(
            User.id == user_id,
            User.auth_key == account_key,
            User.token_version == version,
            User.is_active.is_(True),
        )
        .values(hashed_password=hashed_password, token_version=User.token_version + 1, updated_at=utcnow())
    )
    changed: int = session.execute(statement).rowcount  # type: ignore[attr-defined]
    session.commit()
    return changed == 1


def set_phone_number(session: Session, *, principal: Principal, phone_number: str | None) -> None:
    """Replace the user's phone number."""
    _update_own_row(session, principal, phone_number=phone_number)


def set_timezone(session: Session, *, principal: Principal, timezone: str) -> None:
    """Replace the user's time zone (an IANA name the caller has checked)."""
    _update_own_row(session, principal, timezone=timezone)


def set_theme(session: Session, *, principal: Principal, theme: str) -> None:
    """Replace the user's colour theme ("system", "light" or "dark", checked by the caller)."""
    _update_own_row(session, principal, theme=theme)


def calendar_token(session: Session, *, principal: Principal) -> str:
    """The secret of the user's calendar feed address, while their session holds."""
    token = session.execute(select(User.calendar_token).where(actor_row()), principal.guard()).scalar_one_or_none()
    if token is None:
        raise NotAuthenticated(SESSION_ENDED)
    return token


def rotate_calendar_token(session: Session, *, principal: Principal) -> str:
    """Give the user a new calendar feed secret (the old address stops working); returns it."""
    token = new_calendar_token()
    _update_own_row(session, principal, calendar_token=token)
    return token


def revoke_token(session: Session, *, user_id: int, session_id: str, expires_at: datetime) -> None:
    """Record a logged-out token until it would have expired; purge expired records."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    if session.get(RevokedToken, session_id) is None:
        session.add(RevokedToken(jti=session_id, user_id=user_id, expires_at=expires_at))
    session.commit()


def list_users(session: Session, *, q: str | None, limit: int, offset: int) -> tuple[list[User], int]:
    """A page of users, ordered by username, with the total before paging."""
    conditions = []
    if q:
        conditions.append(
            or_(
                User.username_key.contains(q.lower(), autoescape=True),
                User.email_key.contains(q.lower(), autoescape=True),
            )
        )
    total = session.execute(select(func.count()).select_from(User).where(*conditions)).scalar_one()
    users = session.scalars(
        select(User).where(*conditions).order_by(User.username_key).limit(limit).offset(offset)
    ).all()
    return list(users), total


def delete_by_username(session: Session, *, username: str, principal: Principal) -> int:
    """Delete a user (their todos and revocations cascade); returns the deleted id.

    The acting admin is re-checked, with every admin row locked, in this transaction:
    two admins deleting each other at once leave one admin, never none.
    """
    lock_admins(session, principal=principal)
    user_id = session.execute(select(User.id).where(User.username_key == username.lower())).scalar_one_or_none()
    if user_id is None:
        raise NotFound("User not found")
    if user_id == principal.id:
        raise Conflict("Admins cannot delete their own account")
    session.execute(delete(User).where(User.id == user_id))
    session.commit()
    return user_id


def promote(session: Session, *, username: str) -> None:
    """Give an existing user the admin role."""
    result = session.execute(
        update(User).where(User.username_key == username.lower()).values(role=ROLE_ADMIN, updated_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"No user named {username!r}")
    session.commit()


def _admin_change(session: Session, *, principal: Principal, username: str, values: dict[str, object]) -> User:
    """Change another user's role or standing as an admin (re-checked, admins locked); the user after it."""
    lock_admins(session, principal=principal)
    user = session.execute(select(User).where(User.username_key == username.lower())).scalar_one_or_none()
    if user is None:
        raise NotFound("User not found")
    if user.id == principal.id:
        raise Conflict("Admins cannot change their own role or standing; ask another admin")
    session.execute(update(User).where(User.id == user.id).values(**values, updated_at=utcnow()))
    session.refresh(user)
    return commit_then(session, user)


def set_role(session: Session, *, principal: Principal, username: str, role: str) -> User:
    """Admin: make a user an admin or a plain user."""
    return _admin_change(session, principal=principal, username=username, values={"role": role})


def set_active(session: Session, *, principal: Principal, username: str, is_active: bool) -> User:
    """Admin: deactivate (every session ends at once, and stays ended when reactivated) or reactivate a user."""
    values: dict[str, object] = {"is_active": is_active}
    if not is_active:
        values["token_version"] = User.token_version + 1
    return _admin_change(session, principal=principal, username=username, values=values)


def set_names(session: Session, *, principal: Principal, first_name: str, last_name: str) -> User:
    """Replace the user's first and last name; the user after it."""
    _update_own_row(session, principal, first_name=first_name, last_name=last_name)
    return get_by_id(session, user_id=principal.id)


def set_email(session: Session, *, principal: Principal, email: str) -> User:
    """Replace the user's email (the caller checked the password); taken by another account → Conflict."""
    try:
        _update_own_row(session, principal, email=email, email_key=email.lower())
    except IntegrityError:
        session.rollback()
        raise Conflict("Email already registered") from None
    return get_by_id(session, user_id=principal.id)


def delete_own(session: Session, *, principal: Principal) -> None:
    """Delete the principal's account with everything in it (the caller checked the password).

    The last admin cannot leave: admins are locked and counted first (409)."""
    if principal.is_admin:
        admins = session.execute(select(User.id).where(User.role == ROLE_ADMIN).with_for_update()).scalars().all()
        if len(admins) <= 1:
            raise Conflict("The last admin cannot delete their account; make another user an admin first")
    result = session.execute(delete(User).where(actor_row()), principal.guard())
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotAuthenticated(SESSION_ENDED)
    session.commit()
