"""Form drafts: what someone typed into a form after their session had ended.

Kept server-side for an hour under a random key that only their browser holds (an
HttpOnly cookie), and handed back once, on the same form, after they sign in.
Passwords and CSRF tokens are never kept.
"""

import json
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.models import FormDraft
from backend.models.base import utcnow

DRAFT_MINUTES = 60
MAX_FIELD_CHARS = 5000
MAX_FIELDS = 20


def keepable(fields: dict[str, str]) -> dict[str, str]:
    """The fields worth keeping: no secrets, bounded in number and size."""
    kept = {k: v[:MAX_FIELD_CHARS] for k, v in fields.items() if "password" not in k and k != "csrf_token"}
    return dict(list(kept.items())[:MAX_FIELDS])


def save(session: Session, *, path: str, fields: dict[str, str]) -> str:
    """Store a draft for the form at `path`; returns its key. Expired drafts are purged."""
    now = utcnow()
    key = secrets.token_urlsafe(32)
    session.execute(delete(FormDraft).where(FormDraft.expires_at < now))
    session.add(
        FormDraft(
            key=key,
            path=path[:200],
            fields=json.dumps(keepable(fields)),
            expires_at=now + timedelta(minutes=DRAFT_MINUTES),
        )
    )
    session.commit()
    return key


def take(session: Session, *, key: str, path: str) -> dict[str, str] | None:
    """The draft for the form at `path`, once (it is deleted), or None."""
    draft = session.execute(
        select(FormDraft.fields).where(FormDraft.key == key, FormDraft.path == path, FormDraft.expires_at > utcnow())
    ).scalar_one_or_none()
    if draft is None:
        return None
    session.execute(delete(FormDraft).where(FormDraft.key == key))
    session.commit()
    loaded = json.loads(draft)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else None
