"""Who a request acts for, and the one check that they still may.

A request's principal is loaded once, when the request starts. Writes do not trust that
read: every write statement carries `still_valid()` (or `lock_admin()` for admin
actions) in the same transaction, so a session logged out, a password changed, an
account deleted, deactivated or demoted while the request was in flight (a slow form
body, say) changes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from backend.core.errors import NotAuthenticated, PermissionDenied
from backend.core.tokens import TokenClaims
from backend.database.direct import first_row
from backend.models import ROLE_ADMIN, ListMember, RevokedToken, TodoList, User

SESSION_ENDED = "Your session has ended; sign in again"
_USERS = cast(Table, User.__table__)
_USER = _USERS.c  # columns of the users table
_REVOKED = cast(Table, RevokedToken.__table__).c
_LIST = cast(Table, TodoList.__table__).c
_MEMBER = cast(Table, ListMember.__table__).c


class PrincipalRow(NamedTuple):
    id: int
    username: str
    role: str
    timezone: str = "UTC"
    theme: str = "system"
    inbox_id: int = 0
    shares: bool = False


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user: one row of `users` and the token that named it."""

    id: int
    username: str
    role: str
    timezone: str
    theme: str
    # The list todos go to when none is named.
    inbox_id: int
    # Whether any list is shared with this user or by them: reads then also look at
    # memberships and changes are announced to members (services/access.py).
    shares: bool
    token: TokenClaims
    via_cookie: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def session_id(self) -> str:
        return self.token.jti

    @property
    def expires_at(self) -> datetime:
        return self.token.expires_at

    def guard(self) -> dict[str, int | str]:
        """The bound parameters of `still_valid()` for this principal."""
        return token_params(self.token)  # the token names this principal's id


def valid_conditions() -> list[ColumnElement[bool]]:
    """The user check on the `users` row: its parameters are `token_params()`'s."""
    return [
        _USER.id == bindparam("actor_id"),
        _USER.is_active.is_(True),
        _USER.token_version == bindparam("actor_ver"),
        _USER.auth_key == bindparam("actor_acc"),
        ~exists().where(_REVOKED.jti == bindparam("actor_jti")),
    ]


def still_valid() -> ColumnElement[bool]:
    """True while the actor's token is good: add to a write's WHERE (on another table)."""
    return exists().where(*valid_conditions())


def actor_row() -> ColumnElement[bool]:
    """The same check as conditions on the `users` row itself (for UPDATEs of `users`)."""
    return and_(*valid_conditions())


# One statement checks the user exists, is active, the token's version and account key
# match (no password change, not another account under a reused id) and it is not revoked.
# The Inbox and whether anything is shared come along in the same statement.
_INBOX = select(_LIST.id).where(_LIST.owner_id == _USER.id, _LIST.is_inbox.is_(True)).limit(1).scalar_subquery()
_SHARES = or_(
    exists().where(_MEMBER.user_id == _USER.id),
    exists().where(_MEMBER.list_id == _LIST.id, _LIST.owner_id == _USER.id),
)
PRINCIPAL_COLUMNS = (
    _USER.id,
    _USER.username,
    _USER.role,
    _USER.timezone,
    _USER.theme,
    func.coalesce(_INBOX, 0),
    _SHARES,
)
_LOAD = select(*PRINCIPAL_COLUMNS).where(*valid_conditions())


def token_params(token: TokenClaims) -> dict[str, int | str]:
    """The bound parameters of `valid_conditions()` for a token."""
    return {
        "actor_id": token.user_id,
        "actor_ver": token.version,
        "actor_acc": token.account_key,
        "actor_jti": token.jti,
    }


def load_principal(session: Session, *, token: TokenClaims) -> PrincipalRow | None:
    """The principal's row when the token is still good, else None."""
    row = first_row(session, _LOAD, token_params(token))
    return None if row is None else principal_row(row)


def principal_row(row: Sequence[Any]) -> PrincipalRow:
    """A row of PRINCIPAL_COLUMNS as a PrincipalRow."""
    user_id, username, role, timezone, theme, inbox_id, shares = row[:7]
    return PrincipalRow(user_id, username, role, timezone, theme, inbox_id, bool(shares))


def ensure_valid(session: Session, *, principal: Principal) -> None:
    """Raise NotAuthenticated when the principal's session no longer holds (the slow path:
    called after a guarded write matched nothing, to tell "gone" from "not yours")."""
    if first_row(session, _LOAD, principal.guard()) is None:
        raise NotAuthenticated(SESSION_ENDED)


def lock_admins(session: Session, *, principal: Principal) -> None:
    """Lock every admin row (in id order, so two admins acting at once queue instead of
    deadlocking) and check the actor is still an active admin with a valid session.

    With the actor locked in as an admin, deleting anyone else always leaves one admin;
    deleting oneself is refused by the caller (409).
    """
    admin_ids = set(
        session.execute(select(_USER.id).where(_USER.role == ROLE_ADMIN).order_by(_USER.id).with_for_update()).scalars()
    )
    ensure_valid(session, principal=principal)
    if principal.id not in admin_ids:
        raise PermissionDenied("Admin privileges required")


def valid_sessions(session: Session, *, tokens: list[TokenClaims]) -> set[str]:
    """Of these tokens, the ids (jti) of those still good: two statements for any number
    (the open WebSockets' sessions, checked every few seconds)."""
    if not tokens:
        return set()
    users = {
        row.id: row
        for row in session.execute(
            select(_USER.id, _USER.token_version, _USER.auth_key).where(
                _USER.id.in_({token.user_id for token in tokens}), _USER.is_active.is_(True)
            )
        )
    }
    revoked = set(session.scalars(select(_REVOKED.jti).where(_REVOKED.jti.in_([token.jti for token in tokens]))))
    good = set()
    for token in tokens:
        user = users.get(token.user_id)
        if user is not None and (user.token_version, user.auth_key) == (token.version, token.account_key):
            good.add(token.jti)
    return good - revoked
